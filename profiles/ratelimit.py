"""Rate limits of the REST API (spec §5): requests per client address per window, counted in
one store that every worker and node shares.

A fixed window (`API_RATE_WINDOW_SECONDS`, an hour): the count of a client's window, and the
window's end as `X-RateLimit-Reset`. With `REDIS_URL` the count is one `INCR` (and its
`EXPIRE`) in one round trip; without it (the embedded default) one upsert on the database's
`RateCounter` table, which the app servers share as they share every other row.

A store that does not answer within `REDIS_TIMEOUT_MS` fails open: the request is served,
reported as not counted, one log line a minute says so, and the store is not asked again for
`STORE_RETRY_SECONDS`, so a frozen Redis costs one timeout per worker per interval rather than
one per request. Refusing every reader because a counter is unreachable would turn a cache
outage into an API outage; the edge (Varnish) is the first line against floods anyway.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

STORE_RETRY_SECONDS: Final = 5.0
LOG_EVERY_SECONDS: Final = 60.0
REDIS_PREFIX: Final = "ratelimit:v3"


@dataclass(frozen=True, slots=True)
class Quota:
    """What the headers report: `remaining` after this request; `reset` a Unix time."""

    limit: int
    remaining: int
    reset: int
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


def quota_take(*, client: str, now: float | None = None) -> Quota:
    """Count one request of `client` (an address) and say whether it is over the limit."""
    limit = settings.API_RATE_LIMIT
    window = settings.API_RATE_WINDOW_SECONDS
    moment = time.time() if now is None else now
    start = int(moment // window) * window
    reset = start + window
    count = _count(client, start, window)
    if count is None:  # the store did not answer: served, not counted
        return Quota(limit, limit, reset, exceeded=False)
    return Quota(limit, max(0, limit - count), reset, exceeded=count > limit)


class _Breaker:
    """When the store last failed, per process: skip it for a while after a failure."""

    def __init__(self) -> None:
        self.down_until = 0.0
        self.logged_at = -LOG_EVERY_SECONDS
        self.lock = threading.Lock()

    def open(self) -> bool:
        return time.monotonic() < self.down_until

    def failed(self, error: Exception) -> None:
        now = time.monotonic()
        with self.lock:
            self.down_until = now + STORE_RETRY_SECONDS
            if now - self.logged_at >= LOG_EVERY_SECONDS:
                self.logged_at = now
                logger.warning(
                    "API rate limits are not counted: the Redis store failed (%s); "
                    "serving requests uncounted, next try in %.0f s",
                    error,
                    STORE_RETRY_SECONDS,
                )


_breaker = _Breaker()
_clients: dict[tuple[int, str], Any] = {}


def _count(client: str, start: int, window: int) -> int | None:
    if settings.REDIS_URL:
        return _redis_count(client, start, window)
    return _database_count(client, start)


def _redis_count(client: str, start: int, window: int) -> int | None:
    import redis

    if _breaker.open():
        return None
    key = f"{REDIS_PREFIX}:{start}:{client}"
    try:
        pipe = _redis().pipeline(transaction=False)
        pipe.incr(key)
        # A little past the window's end: a clock a second apart on another node still counts.
        pipe.expire(key, window + 60, nx=True)
        count, _ = pipe.execute()
    except (redis.RedisError, OSError) as error:
        _breaker.failed(error)
        return None
    return int(count)


def _redis() -> Any:
    import os

    import redis

    timeout = settings.REDIS_TIMEOUT_MS / 1000
    key = (os.getpid(), settings.REDIS_URL)
    client = _clients.get(key)
    if client is None:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        _clients[key] = client
    return client


_UPSERT: Final = (
    "INSERT INTO profiles_ratecounter (client, window_start, hits) VALUES (%s, %s, 1) "
    "ON CONFLICT (client) DO UPDATE SET "
    "hits = CASE WHEN profiles_ratecounter.window_start = excluded.window_start "
    "THEN profiles_ratecounter.hits + 1 ELSE 1 END, "
    "window_start = excluded.window_start "
    "RETURNING hits"
)
_PRUNE: Final = "DELETE FROM profiles_ratecounter WHERE window_start < %s"
_pruned: dict[int, int] = {}


def _database_count(client: str, start: int) -> int:
    """One statement, atomic on its own: the row of `client` restarts at 1 in a new window.
    Each process deletes the rows of past windows once per window, so the table holds about
    the clients of the current window."""
    import os

    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [client, start])
        (count,) = cursor.fetchone()
        if _pruned.get(os.getpid()) != start:
            _pruned[os.getpid()] = start
            cursor.execute(_PRUNE, [start])
    return int(count)
