"""Accounts in the admin: addresses inline, and disabling an account through the recorded
moderation service (its hashes then serve defaults and it cannot sign in)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.safestring import SafeString

from accounts.models import User
from avatars.admin import thumbnail
from avatars.models import Address
from avatars.moderation import user_set_active

ADDRESS_COLUMNS = ("email", "verified_at", "is_primary", "avatar_image", "md5", "sha256")


class AddressInline(admin.TabularInline[Address, User]):
    model = Address
    fk_name = "owner"
    extra = 0
    fields = ADDRESS_COLUMNS
    readonly_fields = ADDRESS_COLUMNS
    can_delete = False
    show_change_link = False

    @admin.display(description="Avatar")
    def avatar_image(self, address: Address) -> SafeString | str:
        return thumbnail(address.avatar, 40) if address.avatar else "—"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an address is claimed and confirmed by its owner, by email


@admin.action(description="Disable the selected accounts (their avatars stop showing)")
def disable_accounts(
    model_admin: UserAdmin, request: HttpRequest, queryset: QuerySet[User]
) -> None:
    _set_active(model_admin, request, queryset, active=False)


@admin.action(description="Enable the selected accounts again")
def enable_accounts(model_admin: UserAdmin, request: HttpRequest, queryset: QuerySet[User]) -> None:
    _set_active(model_admin, request, queryset, active=True)


def _set_active(
    model_admin: UserAdmin, request: HttpRequest, queryset: QuerySet[User], *, active: bool
) -> None:
    assert isinstance(request.user, User)
    moderator = request.user
    changed = sum(
        user_set_active(moderator=moderator, user=user, active=active) for user in queryset
    )
    verb = "Enabled" if active else "Disabled"
    model_admin.message_user(request, f"{verb} {changed} account(s).", messages.SUCCESS)


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ["email", "display_name", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "hide_avatar", "date_joined"]
    search_fields = ["email", "display_name", "addresses__email"]
    ordering = ["-date_joined"]
    inlines = [AddressInline]
    actions = [disable_accounts, enable_accounts]
    fieldsets = [
        (None, {"fields": ["email", "display_name", "display_name_public", "hide_avatar"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    readonly_fields = [
        "email",
        "display_name",
        "display_name_public",
        "hide_avatar",
        "date_joined",
        "last_login",
    ]
    filter_horizontal = ["groups"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people sign up; staff accounts come from `manage.py createsuperuser`

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False  # disable instead: deletion is the owner's, with its images and purges

    def save_model(
        self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool
    ) -> None:
        if change and "is_active" in form.changed_data:
            assert isinstance(request.user, User)
            wanted = obj.is_active
            obj.is_active = not wanted  # the service makes the change, records and purges it
            super().save_model(request, obj, form, change)
            user_set_active(moderator=request.user, user=obj, active=wanted)
            obj.is_active = wanted
            return
        super().save_model(request, obj, form, change)
