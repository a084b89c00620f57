"""What a hash resolves to, remembered by each worker so that a hot hash costs no query.

`avatars.selectors.hash_resolve` asks this cache first. An entry (a `KnownHash`, or the fact
that the hash resolves to nothing) is used only while all of these hold:

- it is younger than `TTL_SECONDS`, counted from before the query that read it: the safety net,
  so that no failure below can keep a stale answer for longer (shorter than the purge echo,
  `avatars.purging.ECHO_DELAY`, so the edge cannot keep one either);
- no change to its digest was announced since: every change verb (`avatars.freshness`) calls
  `digests_changed` after its commit, which drops the digests in this process, moves this node's
  generation (a file's modification time under VAR_DIR, read with one `stat` per lookup, so that
  every process of a checkout sees it before the purge reaches Varnish) and, with `REDIS_URL`,
  publishes them to every other node, whose listener thread drops them;
- the lookup runs outside a transaction: inside one, a read may see this transaction's own
  uncommitted rows, which must never reach other requests.

Other apps keep their own spaces here (`cached_in`): a bounded LRU each, whose entries may name
more keys than the one they are looked up by (a profile answers for every digest of an account
and a slug), dropped when any of them is announced; the same generation, listener and
time-to-live keep them exact. The avatar space pays nothing for that.

Redis frozen or down costs nothing on the hot path: the listener reconnects in the background
with a growing delay, publishing (in the request that made the change, after its commit) gives
up after `REDIS_TIMEOUT_MS`, and entries still expire after `TTL_SECONDS`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

if TYPE_CHECKING:
    from avatars.selectors import KnownHash

logger = logging.getLogger(__name__)

# A hot hash costs one query per worker per this many seconds: at a thousand requests a second
# per worker that is 0.1 % of them, so a longer life would save nothing measurable, and one
# second is also the longest a change may take to reach another app node while Redis is down.
TTL_SECONDS: Final = 1.0
LISTEN_POLL_SECONDS: Final = 1.0
# A listener that heard nothing, not even its own ping, for this long reconnects: a frozen Redis
# answers nothing and raises nothing.
LISTEN_SILENCE_SECONDS: Final = 3.0
RECONNECT_DELAYS: Final = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
GENERATION_FILE: Final = "resolution-generation"

_MISSING: Final = object()
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Entry:
    found: Any  # the avatar space: KnownHash | None; other spaces: their own answers
    expires_at: float
    generation: int
    # Further keys whose announcement drops this entry (other spaces only).
    tags: tuple[str, ...] = ()


class ResolutionLRU:
    """Digest → entry, least recently used first out, at most `max_entries` of them."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, _Entry] = OrderedDict()
        # tag -> the keys of the entries naming it; empty in the avatar space.
        self._tagged: dict[str, set[str]] = {}
        # Bumped by every invalidation: a read that overlapped one is not stored.
        self.epoch = 0
        # gunicorn's threaded workers share this map; the listener thread writes to it.
        self._lock = threading.Lock()

    def get(self, digest: str) -> _Entry | None:
        with self._lock:
            entry = self._items.get(digest)
            if entry is not None:
                self._items.move_to_end(digest)
            return entry

    def put(self, digest: str, entry: _Entry, *, epoch: int) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            if epoch != self.epoch:
                return
            if self._tagged:
                self._untag(digest, self._items.get(digest))
            self._items[digest] = entry
            self._items.move_to_end(digest)
            for tag in entry.tags:
                self._tagged.setdefault(tag, set()).add(digest)
            while len(self._items) > self.max_entries:
                key, evicted = self._items.popitem(last=False)
                self._untag(key, evicted)

    def discard(self, digests: Iterable[str]) -> None:
        with self._lock:
            self.epoch += 1
            for digest in digests:
                self._untag(digest, self._items.pop(digest, None))
                for key in self._tagged.pop(digest, ()):
                    self._untag(key, self._items.pop(key, None))

    def clear(self) -> None:
        with self._lock:
            self.epoch += 1
            self._items.clear()
            self._tagged.clear()

    def _untag(self, key: str, entry: _Entry | None) -> None:
        if entry is None:
            return
        for tag in entry.tags:
            keys = self._tagged.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tagged[tag]

    def __len__(self) -> int:
        return len(self._items)


class _Process:
    """This process's cache and listener. A forked worker gets its own on first use: threads
    and sockets do not survive gunicorn's fork of a preloaded app."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.memory = ResolutionLRU(settings.AVATAR_RESOLUTION_MEMORY_ENTRIES)
        # Every space, the avatar one first; the listener drops announced keys in each.
        self.memories: list[ResolutionLRU] = [self.memory]
        self.spaces: dict[str, ResolutionLRU] = {}
        self.generation_path = Path(settings.VAR_DIR) / GENERATION_FILE
        self.listener: Listener | None = None
        self.publisher: Any = None
        if self.memory.max_entries > 0:
            self.listen()

    def listen(self) -> None:
        if settings.REDIS_URL and self.listener is None:
            self.listener = Listener(settings.REDIS_URL, self.memories)
            self.listener.start()

    def space(self, name: str, max_entries: int) -> ResolutionLRU:
        memory = self.spaces.get(name)
        if memory is None:
            with _process_lock:
                memory = self.spaces.get(name)
                if memory is None:
                    memory = ResolutionLRU(max_entries)
                    self.memories.append(memory)
                    self.spaces[name] = memory
                    if max_entries > 0:
                        self.listen()
        return memory


_process: _Process | None = None
_process_lock = threading.Lock()


def _current() -> _Process:
    global _process
    process = _process
    if process is None or process.pid != os.getpid():
        with _process_lock:
            if _process is None or _process.pid != os.getpid():
                _process = _Process()
            process = _process
    return process


def resolution_start() -> None:
    """Set up this process's cache and, with Redis, its listener (gunicorn calls it in each
    worker before it serves, so that no change published meanwhile goes unheard)."""
    _current()


def resolution_cached(digest: str, resolve: Callable[[str], KnownHash | None]) -> KnownHash | None:
    """What `digest` resolves to, from memory when an entry is still exact, else `resolve`."""
    process = _current()
    memory = process.memory
    if memory.max_entries <= 0 or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return resolve(digest)
    generation = node_generation(process.generation_path)
    now = time.monotonic()
    entry = memory.get(digest)
    if entry is not None and entry.expires_at > now and entry.generation == generation:
        return cast("KnownHash | None", entry.found)
    epoch = memory.epoch
    found = resolve(digest)
    memory.put(digest, _Entry(found, now + TTL_SECONDS, generation), epoch=epoch)
    return found


def cached_in(
    space: str,
    key: str,
    resolve: Callable[[], T],
    *,
    tags: Callable[[T], Iterable[str]],
    max_entries: int,
) -> T:
    """What `key` answers in another app's space (at most `max_entries` of them per process),
    from memory while exact, else `resolve()`. The entry is dropped, like the avatar space's,
    when `key` or any of `tags(answer)` is announced changed (`digests_changed`)."""
    process = _current()
    memory = process.space(space, max_entries)
    if memory.max_entries <= 0 or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return resolve()
    generation = node_generation(process.generation_path)
    now = time.monotonic()
    entry = memory.get(key)
    if entry is not None and entry.expires_at > now and entry.generation == generation:
        return cast(T, entry.found)
    epoch = memory.epoch
    found = resolve()
    named = tuple(tag for tag in tags(found) if tag != key)
    memory.put(key, _Entry(found, now + TTL_SECONDS, generation, named), epoch=epoch)
    return found


def digests_changed(digests: Iterable[str]) -> None:
    """What these digests serve changed and the change is committed: forget them everywhere.

    In this process at once, on this node through the generation file, on other nodes through
    Redis. Called by the change verbs after the commit, before the purges go out.
    """
    keys = sorted({digest.strip().lower() for digest in digests if digest.strip()})
    if not keys:
        return
    process = _current()
    for memory in process.memories:
        memory.discard(keys)
    _generation_bump(process.generation_path)
    if settings.REDIS_URL:
        _publish(process, keys)


def resolution_clear() -> None:
    """Forget every entry of this process (tests: their rows vanish without a change verb)."""
    if _process is not None and _process.pid == os.getpid():
        for memory in _process.memories:
            memory.clear()


def node_generation(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return 0


def _generation_bump(path: Path) -> None:
    try:
        previous = node_generation(path)
        if previous == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        # Any different value invalidates; never reuse the one readers may hold.
        stamp = max(time.time_ns(), previous + 1)
        os.utime(path, ns=(stamp, stamp))
    except OSError as error:
        # Other processes of this node then rely on Redis or the time-to-live.
        logger.warning("cannot move the resolution generation %s: %s", path, error)


def redis_timeout() -> float:
    """Seconds, the same bound as the shared cache's (settings.REDIS_TIMEOUT_MS)."""
    return float(settings.REDIS_TIMEOUT_MS) / 1000


def channel_name(client: Any) -> str:
    """Pub/sub channels are shared by every database of a Redis server: name ours after the
    database the deployment uses, so two deployments on one server do not hear each other."""
    database = client.connection_pool.connection_kwargs.get("db", 0)
    return f"avatars:resolution-changed:{database}"


def _publish(process: _Process, keys: list[str]) -> None:
    import redis

    try:
        if process.publisher is None:
            process.publisher = redis.Redis.from_url(
                settings.REDIS_URL,
                socket_timeout=redis_timeout(),
                socket_connect_timeout=redis_timeout(),
            )
        process.publisher.publish(channel_name(process.publisher), " ".join(keys))
    except (redis.RedisError, OSError) as error:
        # The other nodes serve the old answer for at most TTL_SECONDS.
        logger.warning("cannot publish a resolution change to Redis: %s", error)


class Listener(threading.Thread):
    """Drops the digests other nodes announce. Reconnects with a growing delay; while it is
    away, entries still expire after TTL_SECONDS, and it forgets everything on reconnecting,
    since it may have missed news."""

    def __init__(self, url: str, memories: list[ResolutionLRU]) -> None:
        super().__init__(name="resolution-listener", daemon=True)
        # The process's list itself: a space added later is heard too.
        self.url, self.memories = url, memories
        self.connected = threading.Event()
        self.stopped = threading.Event()

    def stop(self) -> None:
        """Ends the thread within LISTEN_POLL_SECONDS (tests; a worker's threads die with it)."""
        self.stopped.set()

    def run(self) -> None:
        import redis

        failures = 0
        while not self.stopped.is_set():
            try:
                self._listen()
            except (redis.RedisError, OSError, TimeoutError) as error:
                self.connected.clear()
                if failures == 0:
                    logger.warning("resolution listener lost Redis, reconnecting: %s", error)
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                self.stopped.wait(delay)
            else:
                failures = 0

    def _listen(self) -> None:
        import redis

        client = redis.Redis.from_url(
            self.url,
            socket_timeout=LISTEN_POLL_SECONDS + redis_timeout(),
            socket_connect_timeout=redis_timeout(),
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(channel_name(client))
            heard = time.monotonic()
            for memory in self.memories:
                memory.clear()
            self.connected.set()
            while not self.stopped.is_set():
                message = pubsub.get_message(timeout=LISTEN_POLL_SECONDS)
                now = time.monotonic()
                if message is None:
                    if now - heard > LISTEN_SILENCE_SECONDS:
                        raise TimeoutError("Redis answered nothing, not even a ping")
                    pubsub.ping()
                    continue
                heard = now
                if message["type"] == "message":
                    data = message["data"]
                    text = data.decode() if isinstance(data, bytes) else str(data)
                    keys = text.split()
                    for memory in self.memories:
                        memory.discard(keys)
        finally:
            pubsub.close()
            client.close()
