"""Who a bearer token speaks for. One query per request, by the token's SHA-256 checksum: an
OAuth access token (django-oauth-toolkit's, stored as a checksum) or a personal token, told
apart by their prefix (api/tokens.py). Cookies are never looked at (api/middleware.py).

Every /v3/me/ request pays for the lookup, so its query is compiled once (api/compiled.py).
A site key (for /v3/profiles, through profiles/keys.py) is looked up the same way and each
worker remembers the answer, since a site reading profiles in bulk sends the same key all day."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property

from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from accounts.models import User
from api import tokens, usage
from api.compiled import TEXT_PLACEHOLDER, Compiled, aware
from api.models import PersonalToken, SiteKey
from avatars.resolution import cached_in
from profiles.keys import ApiKey

# Last-use times are written at most this often per token: a busy token costs one UPDATE a
# minute, not one per request.
LAST_USE_RESOLUTION = timedelta(minutes=1)


class Principal:
    """The person a token acts for, what it may do, and the key its rate limit counts under
    (the token's checksum: the same whichever worker or node answers). The account's row is
    read only by the operations that need more than its id."""

    __slots__ = ("__dict__", "limit_key", "scopes", "user_id")

    def __init__(self, *, user_id: int, scopes: frozenset[str], limit_key: str) -> None:
        self.user_id, self.scopes, self.limit_key = user_id, scopes, limit_key

    @cached_property
    def user(self) -> User:
        return User.objects.get(pk=self.user_id)


def bearer_token(request: HttpRequest) -> str | None:
    """The token of `Authorization: Bearer <token>`, or None when the header is absent or
    another scheme. A token in the query string is never read (RFC 9700 §4.3.2)."""
    return bearer_of(request.headers.get("Authorization", ""))


def bearer_of(header: str) -> str | None:
    """The token of an Authorization header's value `Bearer <token>`, else None."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


_PERSONAL = Compiled(
    lambda: (
        PersonalToken.objects.filter(checksum=TEXT_PLACEHOLDER, owner__is_active=True)
        .order_by()
        .values_list("id", "owner_id", "scopes", "expires_at", "last_used_at")[:1]
    ),
    TEXT_PLACEHOLDER,
)
_ACCESS = Compiled(
    lambda: (
        get_access_token_model()
        .objects.filter(token_checksum=TEXT_PLACEHOLDER, user__is_active=True)
        .order_by()
        .values_list("user_id", "scope", "expires")[:1]
    ),
    TEXT_PLACEHOLDER,
)


def principal_for(token: str) -> Principal | None:
    """The principal behind an access or personal token, or None for anything unknown,
    expired, revoked, or whose owner is disabled."""
    checksum = tokens.checksum(token)
    now = timezone.now()
    if token.startswith(tokens.PERSONAL_PREFIX):
        row = _PERSONAL.first(checksum)
        if row is None:
            return None
        pk, user_id, scopes, expires_at, last_used_at = row
        expires, last_used = aware(expires_at), aware(last_used_at)
        if expires is not None and expires <= now:
            return None
        if last_used is None or now - last_used >= LAST_USE_RESOLUTION:
            PersonalToken.objects.filter(pk=pk).update(last_used_at=now)
    elif token.startswith(tokens.ACCESS_PREFIX):
        row = _ACCESS.first(checksum)
        if row is None:
            return None
        user_id, scopes, expires_at = row
        expires = aware(expires_at)
        if expires is None or expires <= now:
            return None
    else:
        return None
    assert isinstance(user_id, int) and isinstance(scopes, str)
    return Principal(user_id=user_id, scopes=frozenset(scopes.split()), limit_key=checksum)


_SITE_KEY = Compiled(
    lambda: (
        SiteKey.objects.filter(checksum=TEXT_PLACEHOLDER, owner__is_active=True)
        .order_by()
        .values_list("id")[:1]
    ),
    TEXT_PLACEHOLDER,
)
# Site keys whose lookup each worker remembers (about 200 bytes each), for at most
# avatars.resolution.TTL_SECONDS and until a revocation announces the key's checksum.
SITE_KEYS_REMEMBERED = 1_000


def site_key_request(header: str) -> ApiKey | None:
    """What /v3/profiles asks (profiles.keys, registered in api/apps.py): the live site key
    an Authorization header sends, counted as one request of the key's (api/usage.py). None
    for anything else: unknown, revoked, its owner disabled, malformed, or no site key at all
    (a personal or OAuth token is not one)."""
    token = bearer_of(header)
    if token is None or not token.startswith(tokens.SITE_KEY_PREFIX):
        return None
    checksum = tokens.checksum(token)
    pk = site_key_id(checksum)
    if pk is None:
        return None
    usage.site_key_used(pk)
    return ApiKey(limit_key=checksum)


def site_key_id(checksum: str) -> int | None:
    """The id of the live site key with this checksum. A hot key costs no query: each worker
    remembers the answer, dropped everywhere when `site_key_revoke` announces the checksum
    as a changed hash is announced (avatars.resolution)."""
    row = cached_in(
        "site-keys",
        checksum,
        lambda: _SITE_KEY.first(checksum),
        tags=lambda _row: (),
        max_entries=SITE_KEYS_REMEMBERED,
    )
    return None if row is None else int(row[0])
