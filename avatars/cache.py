"""Django's Redis cache, made to behave like a cache when Redis is frozen or gone.

Nothing here depends on Redis holding anything: a failed read is a miss, a failed write is
lost. Socket timeouts (REDIS_TIMEOUT_MS, in settings) bound what one call can cost; after a
failure the process leaves Redis alone for `SKIP_SECONDS`, so a frozen Redis costs each worker
one timeout every few seconds instead of one per request, and the outage is logged once when
it starts and once when Redis answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gravatar import metrics

logger = logging.getLogger(__name__)

# Long enough that a frozen Redis costs little, short enough that a restarted one is used again
# within seconds.
SKIP_SECONDS = 5.0
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

T = TypeVar("T")


class _Breaker:
    """Per process and Redis location: when Redis last failed, and whether that was logged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failed_at: float | None = None

    def open(self) -> bool:
        with self.lock:
            return self.failed_at is not None and time.monotonic() - self.failed_at < SKIP_SECONDS

    def failed(self, location: str, error: BaseException) -> None:
        with self.lock:
            first = self.failed_at is None
            self.failed_at = time.monotonic()
        if first:
            logger.warning(
                "Redis at %s is unreachable (%s: %s); serving without the shared cache, "
                "trying again every %.0f s",
                location,
                type(error).__name__,
                error,
                SKIP_SECONDS,
            )

    def succeeded(self, location: str) -> None:
        if self.failed_at is None:  # the common case, without the lock
            return
        with self.lock:
            was_down = self.failed_at is not None
            self.failed_at = None
        if was_down:
            logger.warning("Redis at %s answers again", location)


_breakers: dict[str, _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker_for(location: str) -> _Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, _Breaker())


class FaultTolerantRedisCache(RedisCache):
    """RedisCache whose calls never raise for an unreachable Redis: they miss or do nothing."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)
        self._breaker = _breaker_for(self._location)

    def _guarded(self, call: Callable[[], T], fallback: T) -> T:
        if self._breaker.open():
            metrics.cache_error(kind=metrics.SKIPPED)
            return fallback
        try:
            result = call()
        except UNREACHABLE as error:
            self._breaker.failed(self._location, error)
            metrics.cache_error(kind=metrics.ERROR)
            return fallback
        self._breaker.succeeded(self._location)
        return result

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._guarded(lambda: RedisCache.add(self, key, value, timeout, version), False)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._guarded(lambda: RedisCache.get(self, key, default, version), default)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._guarded(lambda: RedisCache.set(self, key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._guarded(lambda: RedisCache.touch(self, key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._guarded(lambda: RedisCache.delete(self, key, version), False)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._guarded(lambda: RedisCache.get_many(self, keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._guarded(lambda: RedisCache.has_key(self, key, version), False)

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        # Django's contract: the keys that were not stored.
        return self._guarded(
            lambda: RedisCache.set_many(self, data, timeout, version),
            list(data),
        )

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._guarded(lambda: RedisCache.delete_many(self, keys, version), None)

    def clear(self) -> None:
        self._guarded(lambda: RedisCache.clear(self), None)
