"""The moderators' queue: new and flagged avatars first, with thumbnails, bulk actions and a
log of every decision; and accounts with their addresses, which moderators can disable. Every
change goes through avatars.moderation, which records it and purges what it changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.models import User
from avatars.models import Address, Avatar, ModerationAction, ModerationState, Rating
from avatars.moderation import avatars_set_rating, avatars_set_state, user_set_active

WAITING = (ModerationState.NEW, ModerationState.FLAGGED)


class QueueFilter(admin.SimpleListFilter):
    """By state; without a choice, the queue: what still waits for a moderator."""

    title = "state"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("waiting", "Waiting for review (new and flagged)"),
            *[(state.value, str(state.label)) for state in ModerationState],
            ("all", "All"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value() or "waiting"
        if value == "waiting":
            return queryset.filter(state__in=WAITING)
        if value in ModerationState.values:
            return queryset.filter(state=value)
        return queryset

    def choices(self, changelist: ChangeList) -> Iterator[Any]:
        current = self.value() or "waiting"
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


def thumbnail(avatar: Avatar, edge: int = 64) -> SafeString:
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="{}" loading="lazy" style="border-radius:4px">',
        reverse("avatar_preview", args=[avatar.pk]),
        edge,
        edge,
        avatar.alt_text or _("Avatar %(id)s") % {"id": avatar.pk},
    )


def _state_action(
    state: ModerationState, description: StrOrPromise, done: StrOrPromise
) -> Callable[..., None]:
    """`done` is an ngettext_lazy message of %(count)d."""

    def action(model_admin: AvatarAdmin, request: HttpRequest, queryset: QuerySet[Avatar]) -> None:
        assert isinstance(request.user, User)
        count = avatars_set_state(moderator=request.user, avatars=queryset, state=state)
        model_admin.message_user(request, done % {"count": count}, messages.SUCCESS)

    action.__name__ = f"set_state_{state.value}"
    return admin.action(description=description)(action)


def _rating_action(rating: Rating) -> Callable[..., None]:
    def action(model_admin: AvatarAdmin, request: HttpRequest, queryset: QuerySet[Avatar]) -> None:
        assert isinstance(request.user, User)
        count = avatars_set_rating(moderator=request.user, avatars=queryset, rating=rating)
        done = ngettext(
            "Rated %(rating)s: %(count)d avatar.", "Rated %(rating)s: %(count)d avatars.", count
        )
        model_admin.message_user(
            request, done % {"rating": rating.value.upper(), "count": count}, messages.SUCCESS
        )

    action.__name__ = f"set_rating_{rating.value}"
    description = format_lazy(gettext_lazy("Set rating to {rating}"), rating=rating.value.upper())
    return admin.action(description=description)(action)


@admin.register(Avatar)
class AvatarAdmin(admin.ModelAdmin[Avatar]):
    list_display = ["image", "id", "owner", "state", "rating", "alt_text", "created_at"]
    list_display_links = ["image", "id"]
    list_filter = [QueueFilter, "rating", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["owner__email", "addresses__email", "alt_text"]
    ordering = ["created_at"]
    list_per_page = 50
    actions = [
        _state_action(
            ModerationState.APPROVED,
            gettext_lazy("Approve the selected avatars"),
            ngettext_lazy("Approved %(count)d avatar.", "Approved %(count)d avatars.", "count"),
        ),
        _state_action(
            ModerationState.REJECTED,
            gettext_lazy("Reject the selected avatars"),
            ngettext_lazy("Rejected %(count)d avatar.", "Rejected %(count)d avatars.", "count"),
        ),
        _state_action(
            ModerationState.FLAGGED,
            gettext_lazy("Flag the selected avatars"),
            ngettext_lazy("Flagged %(count)d avatar.", "Flagged %(count)d avatars.", "count"),
        ),
        *[_rating_action(rating) for rating in Rating],
    ]
    fields = ["large_image", "owner", "state", "rating", "alt_text", "size", "format", "created_at"]
    readonly_fields = ["large_image", "owner", "alt_text", "size", "format", "created_at"]

    @admin.display(description=gettext_lazy("Image"))
    def image(self, avatar: Avatar) -> SafeString:
        return thumbnail(avatar)

    @admin.display(description=gettext_lazy("Image"))
    def large_image(self, avatar: Avatar) -> SafeString:
        return thumbnail(avatar, 256)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # avatars come from their owners' uploads

    def has_delete_permission(self, request: HttpRequest, obj: Avatar | None = None) -> bool:
        return False  # moderators reject; only owners delete their images

    def save_model(
        self, request: HttpRequest, obj: Avatar, form: ModelForm[Avatar], change: bool
    ) -> None:
        # The form has already set the new values on obj; hand them to the services instead,
        # so the change is recorded and purged like a bulk action.
        assert isinstance(request.user, User)
        if "state" in form.changed_data:
            state = ModerationState(obj.state)
            avatars_set_state(moderator=request.user, avatars=[obj], state=state)
        if "rating" in form.changed_data:
            avatars_set_rating(moderator=request.user, avatars=[obj], rating=obj.rating)
        obj.refresh_from_db()


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin[ModerationAction]):
    """The record of decisions; read-only, so it stays a record."""

    list_display = [
        "created_at",
        "moderator",
        "kind",
        "avatar_id",
        "subject_user",
        "before",
        "after",
    ]
    list_filter = ["kind", "created_at"]
    search_fields = ["moderator__email", "subject_user__email", "note"]
    list_select_related = ["moderator", "subject_user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ModerationAction | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: ModerationAction | None = None
    ) -> bool:
        return False


ADDRESS_COLUMNS = ("email", "verified_at", "is_primary", "avatar_image", "md5", "sha256")


class AddressInline(admin.TabularInline[Address, User]):
    model = Address
    fk_name = "owner"
    extra = 0
    fields = ADDRESS_COLUMNS
    readonly_fields = ADDRESS_COLUMNS
    can_delete = False
    show_change_link = False

    @admin.display(description=gettext_lazy("Avatar"))
    def avatar_image(self, address: Address) -> SafeString | str:
        return thumbnail(address.avatar, 40) if address.avatar else "—"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an address is claimed and confirmed by its owner, by email


@admin.action(
    description=gettext_lazy("Disable the selected accounts (their avatars stop showing)")
)
def disable_accounts(
    model_admin: UserAdmin, request: HttpRequest, queryset: QuerySet[User]
) -> None:
    _set_active(model_admin, request, queryset, active=False)


@admin.action(description=gettext_lazy("Enable the selected accounts again"))
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
    if active:
        done = ngettext("Enabled %(count)d account.", "Enabled %(count)d accounts.", changed)
    else:
        done = ngettext("Disabled %(count)d account.", "Disabled %(count)d accounts.", changed)
    model_admin.message_user(request, done % {"count": changed}, messages.SUCCESS)


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
