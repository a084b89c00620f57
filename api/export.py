"""The API's part of a data export: what credentials the account holds and which apps it
allowed. Names, scopes and dates only; the export never holds a secret (none is stored)."""

from __future__ import annotations

from typing import Any

from oauth2_provider.models import get_application_model

from accounts.models import User
from api.models import PersonalToken, SiteKey
from api.services import authorized_applications


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def api_data(user: User) -> dict[str, Any]:
    return {
        "personal_tokens": [
            {
                "name": token.name,
                "scopes": token.scopes.split(),
                "created_at": _when(token.created_at),
                "expires_at": _when(token.expires_at),
                "last_used_at": _when(token.last_used_at),
            }
            for token in PersonalToken.objects.filter(owner=user)
        ],
        "site_keys": [
            {
                "name": key.name,
                "created_at": _when(key.created_at),
                "last_used_at": _when(key.last_used_at),
                "request_count": key.request_count,
            }
            for key in SiteKey.objects.filter(owner=user)
        ],
        "registered_apps": [
            {
                "name": app.name,
                "client_id": app.client_id,
                "redirect_uris": app.redirect_uris.split(),
            }
            for app in get_application_model().objects.filter(user=user)
        ],
        "authorized_apps": [
            {"name": app.name, "scopes": held.split()}
            for app, held in authorized_applications(user=user)
        ],
    }
