"""Rate limits of the REST API (spec §5-6): requests per client address, per site key or per
token, per window, counted in one store that every worker and node shares.

A fixed window (`API_RATE_WINDOW_SECONDS`, an hour): the count of a client's window, and the
window's end as `X-RateLimit-Reset`. With `REDIS_URL` the count is one `INCR` (and its
`EXPIRE`) in one round trip; without it (the embedded default) one upsert on the database's
`RateCounter` table, which the app servers share as they share every other row.

With Redis, a client's later requests in a process are counted at once and sent in batches
in the background (`_Redis`), so a hot client costs no round trip.

A store that does not answer within `REDIS_TIMEOUT_MS` fails open: the request is served,
reported as not counted (a client this process already counts goes on being counted here),
one log line a minute says so, and the store is not asked again for `STORE_RETRY_SECONDS`,
so a frozen Redis costs one timeout per worker per interval rather than one per request.
Refusing every reader because a counter is unreachable would turn a cache outage into an API
outage; the edge (Varnish) is the first line against floods anyway.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

STORE_RETRY_SECONDS: Final = 5.0
LOG_EVERY_SECONDS: Final = 60.0
REDIS_PREFIX: Final = "ratelimit:v3"
# Hits counted here are sent to Redis within this long, all clients in one round trip.
FLUSH_SECONDS: Final = 0.02
# Clients whose shared total each process remembers (about 100 bytes each).
KNOWN_MAX: Final = 100_000


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


def quota_take(*, client: str, limit: int | None = None, now: float | None = None) -> Quota:
    """Count one request of `client` and say whether it is over `limit` in this window.

    `client` is what the requests are counted under: a client address (the limit
    `API_RATE_LIMIT` when none is given), or a credential's checksum with its own limit (a site
    key's, `API_KEY_RATE_LIMIT`; a token's, `API_TOKEN_RATE_LIMIT`). A checksum is 64 hex
    digits, which no address is, so the two never share a count."""
    if limit is None:
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
    """When a store last failed, per process: skip it for a while after a failure."""

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


class _Redis:
    """One Redis store as this process sees it: a client, its breaker, and the batcher.

    A client's first request in this process (per window) waits for Redis: one INCR in one
    round trip. Later ones are counted here at once and sent in the background, every hit of
    every client gathered into one pipeline within `FLUSH_SECONDS`, each reply telling this
    process the client's shared total; a request's count is that total plus this process's
    hits not yet sent. A round trip per request cost as much as the rest of the answer on a
    loaded machine (bench/bench_profiles.py); this way a hot client costs none. What it gives
    up: another process's hits reach this one's count with its own next reply, so a client
    spreading requests over N processes may get up to N - 1 requests past the limit, plus
    what arrives within one flush.
    """

    def __init__(self, url: str) -> None:
        import redis

        timeout = settings.REDIS_TIMEOUT_MS / 1000
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.breaker = _Breaker()
        self.lock = threading.Lock()
        self.pending: dict[str, int] = {}  # key -> hits not sent yet
        self.sending: dict[str, int] = {}  # key -> hits on their way, not yet in `known`
        self.known: OrderedDict[str, int] = OrderedDict()  # key -> shared total, last heard
        self.wake = threading.Event()
        self.flusher: threading.Thread | None = None

    def count(self, key: str, window: int) -> int | None:
        with self.lock:
            total = self.known.get(key)
            if total is not None:
                self.known.move_to_end(key)
                self.pending[key] = self.pending.get(key, 0) + 1
                total += self.pending[key] + self.sending.get(key, 0)
        if total is not None:
            self._flush_soon(window)
            return total
        if self.breaker.open():
            return None
        return self._send({key: 1}, window, keep=False).get(key)

    def _flush_soon(self, window: int) -> None:
        if self.flusher is None:
            with self.lock:
                if self.flusher is None:
                    self.flusher = threading.Thread(
                        target=self._flush_forever,
                        args=(window,),
                        name="ratelimit-flusher",
                        daemon=True,
                    )
                    self.flusher.start()
        self.wake.set()

    def _flush_forever(self, window: int) -> None:
        while True:
            self.wake.wait()
            # Gather what arrives meanwhile into the same round trip.
            time.sleep(FLUSH_SECONDS)
            self.wake.clear()
            if self.breaker.open():
                continue  # kept in `pending` for when Redis is back (bounded by `known`)
            with self.lock:
                batch, self.pending = self.pending, {}
                self.sending = batch
            if batch:
                self._send(batch, window, keep=True)

    def _send(self, batch: dict[str, int], window: int, *, keep: bool) -> dict[str, int]:
        """`keep`: on failure, the hits go back to `pending` (a batch of counted hits) rather
        than being lost (a client's first, answered as not counted)."""
        import redis

        try:
            pipe = self.client.pipeline(transaction=False)
            for key, hits in batch.items():
                pipe.incrby(key, hits)
                # A little past the window's end: a clock a second off on another node still
                # counts in the right window.
                pipe.expire(key, window + 60, nx=True)
            replies = pipe.execute()
        except (redis.RedisError, OSError) as error:
            self.breaker.failed(error)
            with self.lock:
                if keep:
                    for key, hits in batch.items():
                        if key in self.known:
                            self.pending[key] = self.pending.get(key, 0) + hits
                    self.sending = {}
            return {}
        totals = {key: int(total) for key, total in zip(batch, replies[::2], strict=True)}
        with self.lock:
            for key, total in totals.items():
                self.known[key] = total
                self.known.move_to_end(key)
            if keep:
                self.sending = {}
            while len(self.known) > KNOWN_MAX:
                self.known.popitem(last=False)
        return totals


_stores: dict[tuple[int, str], _Redis] = {}
_stores_lock = threading.Lock()


def _store(url: str) -> _Redis:
    """This process's view of the Redis at `url` (a forked worker makes its own)."""
    key = (os.getpid(), url)
    store = _stores.get(key)
    if store is None:
        with _stores_lock:
            store = _stores.setdefault(key, _Redis(url))
    return store


def _count(client: str, start: int, window: int) -> int | None:
    if settings.REDIS_URL:
        return _store(settings.REDIS_URL).count(f"{REDIS_PREFIX}:{start}:{client}", window)
    return _database_count(client, start)


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
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [client, start])
        (count,) = cursor.fetchone()
        if _pruned.get(os.getpid()) != start:
            _pruned[os.getpid()] = start
            cursor.execute(_PRUNE, [start])
    return int(count)
