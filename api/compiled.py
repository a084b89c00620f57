"""Queries the ORM writes once per process and database, and each request only executes.

Building a query costs the ORM several times what running it costs on the hot signed-in reads
(the token lookup of every /v3/me/ request, the owner's profile), the reason avatars.selectors
compiles the hash lookup once too. The ORM writes the SQL from a queryset with a placeholder
value; a call runs it with the real value in the placeholder's place, on a raw cursor, so the
caller gets the database's own values (SQLite: text for times, 0/1 for booleans)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import QuerySet

# Stand-ins the queryset is written with; no real checksum or id takes these values.
TEXT_PLACEHOLDER = "compiled-query-placeholder"
ID_PLACEHOLDER = -7_654_321


class Compiled:
    def __init__(self, build: Callable[[], QuerySet[Any, Any]], placeholder: object) -> None:
        self.build, self.placeholder = build, placeholder

    @cache  # noqa: B019  (one per module-level query and database vendor, never more)
    def _sql(self, vendor: str) -> tuple[str, tuple[object, ...]]:
        sql, params = self.build().query.sql_with_params()
        if self.placeholder not in params:
            raise ImproperlyConfigured(f"the compiled query lost its placeholder: {params!r}")
        return sql, tuple(params)

    def _execute(self, cursor: Any, value: object) -> None:
        sql, params = self._sql(connection.vendor)
        cursor.execute(sql, [value if p == self.placeholder else p for p in params])

    def first(self, value: object) -> tuple[Any, ...] | None:
        with connection.cursor() as cursor:
            self._execute(cursor, value)
            row: tuple[Any, ...] | None = cursor.fetchone()
        return row

    def all(self, value: object) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            self._execute(cursor, value)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def aware(value: datetime | str | None) -> datetime | None:
    """A raw cursor returns SQLite's stored text (UTC), or PostgreSQL's aware datetime."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
