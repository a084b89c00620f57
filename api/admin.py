"""The API's credentials in the admin: names, owners, hints and use, never a secret (only
checksums are stored; the admin does not even show those). django-oauth-toolkit registers its
own models; its tokens are stored blank beside their checksums (settings.OAUTH2_PROVIDER)."""

from __future__ import annotations

from django.contrib import admin

from api.models import PersonalToken, SiteKey


@admin.register(PersonalToken)
class PersonalTokenAdmin(admin.ModelAdmin[PersonalToken]):
    list_display = ["name", "owner", "hint", "scopes", "created_at", "expires_at", "last_used_at"]
    search_fields = ["name", "owner__email"]
    fields = readonly_fields = (
        "owner",
        "name",
        "hint",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
    )

    def has_add_permission(self, request: object) -> bool:
        return False  # a token is made by its owner, who alone sees it once


@admin.register(SiteKey)
class SiteKeyAdmin(admin.ModelAdmin[SiteKey]):
    list_display = ["name", "owner", "hint", "created_at", "last_used_at", "request_count"]
    search_fields = ["name", "owner__email"]
    fields = readonly_fields = (
        "owner",
        "name",
        "hint",
        "created_at",
        "last_used_at",
        "request_count",
    )

    def has_add_permission(self, request: object) -> bool:
        return False
