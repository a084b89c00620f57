"""Reads for the avatar endpoint: what a hash resolves to, in one indexed query or none at all
(the resolution cache, `avatars.resolution`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

from avatars.models import Address, ModerationState, Rating
from avatars.resolution import resolution_cached
from gravatar import metrics

MD5_LENGTH = 32
SHA256_LENGTH = 64
_COLUMNS = {MD5_LENGTH: "md5", SHA256_LENGTH: "sha256"}
_RATING_RANKS = {choice.value: Rating.rank(choice.value) for choice in Rating}
_ALWAYS_VISIBLE = frozenset({ModerationState.APPROVED.value})
_VISIBLE_UNTIL_REVIEWED = frozenset(
    {ModerationState.APPROVED.value, ModerationState.NEW.value, ModerationState.FLAGGED.value}
)

_FIELDS = (
    "md5",
    "sha256",
    "updated_at",
    "owner__is_active",
    "owner__hide_avatar",
    "owner__display_name",
    "owner__display_name_public",
    "avatar__digest",
    "avatar__rating",
    "avatar__state",
    "avatar__updated_at",
    "avatar__preview",
    "avatar__master",
    "avatar__format",
    "avatar__size",
)


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An uploaded avatar the hash may show, subject to the requested rating."""

    digest: str
    rating_rank: int
    updated_at: datetime
    preview: str
    master: str
    format: str
    size: int


@dataclass(frozen=True, slots=True)
class KnownHash:
    """A verified address. `image` is None when nothing of its owner's may be shown."""

    md5: str
    sha256: str
    updated_at: datetime
    public_name: str
    image: StoredImage | None


def hash_resolve(*, digest: str) -> KnownHash | None:
    """The verified address behind a lower-case MD5 or SHA-256 hex digest, or None.

    One query on the digest's own index, unless the resolution cache still holds an exact
    answer; moderation, account state and `hide_avatar` are decided here so that callers only
    weigh the rating the request asks for.
    """
    column = _COLUMNS.get(len(digest))
    if column is None:
        return None
    return resolution_cached(digest, _query)


def _query(digest: str) -> KnownHash | None:
    database = connections[DEFAULT_DB_ALIAS]
    sql = _resolve_sql(database.vendor, _COLUMNS[len(digest)])
    # Connections are reused without Django's health check (a `SELECT 1` before every request
    # that queries): a connection the server dropped (a restart, a failover, an idle timeout)
    # fails here instead, and this read, outside any transaction, is safe to repeat once on a
    # new one. A failure to connect at all is not retried: the outage answer is the caller's.
    reused = database.connection is not None and not database.in_atomic_block
    try:
        row = _fetch(database, sql, digest)
    except (OperationalError, InterfaceError):
        if not reused:
            raise
        metrics.database_error(kind=metrics.RECONNECTED)
        database.close()
        row = _fetch(database, sql, digest)
    return _known_hash(*row) if row else None


def _fetch(database: Any, sql: str, digest: str) -> tuple[Any, ...] | None:
    with database.cursor() as cursor:
        cursor.execute(sql, [digest])
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row


@cache
def _resolve_sql(vendor: str, column: str) -> str:
    """The ORM writes the query once per process and database; each request only executes it.
    Building a values_list() query costs about 0.8 ms of CPU, several times the query itself,
    on the endpoint that serves nearly every request."""
    queryset = (
        Address.objects.filter(**{column: "placeholder"}, verified_at__isnull=False)
        .order_by()
        .values_list(*_FIELDS)[:1]
    )
    sql, params = queryset.query.sql_with_params()
    if list(params) != ["placeholder"]:
        raise ImproperlyConfigured(f"unexpected parameters in the hash query: {params!r}")
    return sql


def _aware(value: datetime | str) -> datetime:
    """A raw cursor returns SQLite's stored text (UTC), or PostgreSQL's aware datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _visible_states() -> frozenset[str]:
    """Post-moderation shows an upload until a moderator rejects it; pre-moderation only once
    approved."""
    return _VISIBLE_UNTIL_REVIEWED if settings.AVATAR_MODERATION == "post" else _ALWAYS_VISIBLE


def _known_hash(
    md5: str,
    sha256: str,
    updated_at: datetime | str,
    is_active: bool,
    hide_avatar: bool,
    display_name: str,
    display_name_public: bool,
    avatar_digest: str | None,
    rating: str | None,
    state: str | None,
    avatar_updated_at: datetime | str | None,
    preview: str | None,
    master: str | None,
    fmt: str | None,
    size: int | None,
) -> KnownHash:
    image = None
    if (
        is_active
        and not hide_avatar
        and avatar_digest
        and rating
        and avatar_updated_at
        and preview
        and master
        and fmt
        and size
        and state in _visible_states()
    ):
        image = StoredImage(
            digest=avatar_digest,
            # A rating this code does not know is treated as above every requested one.
            rating_rank=_RATING_RANKS.get(rating, len(_RATING_RANKS)),
            updated_at=_aware(avatar_updated_at),
            preview=preview,
            master=master,
            format=fmt,
            size=size,
        )
    # SQLite hands booleans back as 0 and 1; only their truth matters here.
    public_name = display_name if is_active and display_name_public else ""
    return KnownHash(
        md5=md5,
        sha256=sha256,
        updated_at=_aware(updated_at),
        public_name=public_name,
        image=image,
    )
