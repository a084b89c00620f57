"""The scopes of spec §6, one home for their names and for what the consent page says of them."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from oauth2_provider.scopes import BaseScopes

PROFILE_READ = "profile:read"
PROFILE_MANAGE = "profile:manage"
AVATARS_MANAGE = "avatars:manage"

# What a person is told an app, or a token, may do with each scope (the consent page).
# Lazy: the consent page and the account pages show them in the visitor's language; the
# OpenAPI document (language-free) in English.
DESCRIPTIONS = {
    PROFILE_READ: gettext_lazy("Read your profile and your addresses' avatars"),
    PROFILE_MANAGE: gettext_lazy("Change your profile"),
    AVATARS_MANAGE: gettext_lazy("Upload, change, delete and choose your avatars"),
}
ALL = tuple(DESCRIPTIONS)


def describe(scopes: str | list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    names = scopes.split() if isinstance(scopes, str) else list(scopes)
    # Read now, in the language of the page that shows them.
    return [(name, str(DESCRIPTIONS[name])) for name in ALL if name in names]


def texts() -> dict[str, str]:
    """Each scope and what it lets an app do, in the active language."""
    return {name: str(text) for name, text in DESCRIPTIONS.items()}


class ApiScopes(BaseScopes):  # type: ignore[misc]
    """django-oauth-toolkit's scopes, from the constants above. An app asking for no scope
    gets read access only."""

    def get_all_scopes(self) -> dict[str, str]:
        return texts()

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return list(ALL)

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return [PROFILE_READ]
