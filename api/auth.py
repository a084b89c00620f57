"""Who a bearer token speaks for. One lookup per request, by the token's SHA-256 checksum:
an OAuth access token (django-oauth-toolkit's, stored as a checksum) or a personal token,
told apart by their prefix (api/tokens.py). Cookies are never looked at (api/middleware.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from accounts.models import User
from api import tokens
from api.models import PersonalToken, SiteKey

# Last-use times are written at most this often per token: a busy token costs one UPDATE a
# minute, not one per request.
LAST_USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Principal:
    """The person a token acts for, what it may do, and the key its rate limit counts under
    (the token's checksum: the same whichever worker or node answers)."""

    user: User
    scopes: frozenset[str]
    limit_key: str


def bearer_token(request: HttpRequest) -> str | None:
    """The token of `Authorization: Bearer <token>`, or None when the header is absent or
    another scheme. A token in the query string is never read (RFC 9700 §4.3.2)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def principal_for(token: str) -> Principal | None:
    """The principal behind an access or personal token, or None for anything unknown,
    expired, revoked, or whose owner is disabled."""
    checksum = tokens.checksum(token)
    now = timezone.now()
    if token.startswith(tokens.PERSONAL_PREFIX):
        personal = PersonalToken.objects.filter(checksum=checksum).select_related("owner").first()
        if personal is None or (personal.expires_at is not None and personal.expires_at <= now):
            return None
        user, scopes = personal.owner, personal.scopes
        if personal.last_used_at is None or now - personal.last_used_at >= LAST_USE_RESOLUTION:
            PersonalToken.objects.filter(pk=personal.pk).update(last_used_at=now)
    elif token.startswith(tokens.ACCESS_PREFIX):
        access = (
            get_access_token_model()
            .objects.filter(token_checksum=checksum)
            .select_related("user")
            .first()
        )
        if access is None or access.user is None or access.is_expired():
            return None
        user, scopes = access.user, access.scope
    else:
        return None
    if not user.is_active:
        return None
    return Principal(user=user, scopes=frozenset(scopes.split()), limit_key=checksum)


def site_key_for(token: str) -> SiteKey | None:
    """The site key a `/v3/profiles` request sends, or None when it is not a live one."""
    if not token.startswith(tokens.SITE_KEY_PREFIX):
        return None
    return SiteKey.objects.filter(checksum=tokens.checksum(token), owner__is_active=True).first()
