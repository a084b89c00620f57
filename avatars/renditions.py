"""Renditions: an image at one size in one format, made once and then served from caches.

A rendition is immutable by its identity (the avatar's master digest, or a default's kind, seed
and text; plus size, format and RENDITION_VERSION), so nothing here is ever invalidated: a new
upload has a new digest. Lookups go through an in-process LRU bounded in bytes, then the Django
cache (shared through Redis when configured), and only then decode and encode.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import caches
from django.core.files.storage import default_storage
from PIL import Image

from avatars.defaults import render_default, render_default_rows
from avatars.imaging import encode, square
from gravatar import metrics

if TYPE_CHECKING:
    # Only for annotations: render_source stays importable without Django set up (bench).
    from avatars.selectors import StoredImage

logger = logging.getLogger(__name__)

# Part of every identity: bump it when encoder settings or a generator change, so that
# caches, ETags and edge objects all move to the new bytes together. 3: identicons' PNGs are
# two-colour palette images (the same pixels, a third of the bytes). 4: small shrinks of a
# photo are BICUBIC (avatars/imaging/square.py).
RENDITION_VERSION = 4
# Long enough to outlive every popular rendition; only stale keys of deleted avatars expire.
SHARED_CACHE_SECONDS = 30 * 86400
# Defaults that look the same for every hash: one rendition per size, not one per hash.
HASH_INDEPENDENT_DEFAULTS = frozenset({"mp", "blank"})
# Only these defaults go to the shared cache, whose keys they bound (kinds x sizes x formats).
# A per-hash default would add a key for every never-seen hash, and most traffic is for
# unknown hashes: Varnish and each worker's LRU hold those, and drawing one again costs about
# a millisecond or so at 80 px (bench/bench_shared_cache.py measures every kind).
SHARED_DEFAULTS = HASH_INDEPENDENT_DEFAULTS
# An AVIF costs 15-20 times a JPEG to encode (5.7 million instructions at 80 px against
# 0.33 million, bench/bench_instructions.py): one is made while the request waits only when
# its process is making no other rendition and has met no such contention for
# AVIF_CALM_SECONDS; otherwise the request gets the image's own format, briefly cached, and its
# AVIF is queued, up to AVIF_QUEUE per process, for a background thread. Under bench/run.py's
# flood of cold AVIFs, waiting whenever no other AVIF was pending encoded 3.4 % of the answers
# in the request (0.18 of the bare view); adding "no other rendition" alone, 5.5 % (0.21);
# with the calm period, 0.05 % (0.22, the cold JPEG rate).
AVIF_QUEUE = 8
AVIF_CALM_SECONDS = 1.0
AVIF_THREAD_NAME = "avif-encode"
# The queued encodes yield the cores to requests (0 is normal, 19 the lowest priority).
AVIF_NICENESS = 10


class RenditionUnavailable(OSError):
    """The stored source of an avatar cannot be read or decoded."""


@dataclass(frozen=True, slots=True)
class Rendition:
    data: bytes
    format: str
    etag: str  # strong, quoted

    @property
    def content_type(self) -> str:
        return encode.CONTENT_TYPES[self.format]

    @property
    def extension(self) -> str:
        return encode.EXTENSIONS[self.format]


class ByteBudgetLRU:
    """A least-recently-used map of bytes whose total size stays within a budget."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._total = 0
        # gunicorn's threaded workers would share this map.
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        with self._lock:
            previous = self._items.pop(key, None)
            if previous is not None:
                self._total -= len(previous)
            self._items[key] = value
            self._total += len(value)
            while self._total > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._total -= len(evicted)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._total = 0

    @property
    def total_bytes(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._items)


_memory: ByteBudgetLRU | None = None


def memory_cache() -> ByteBudgetLRU:
    """This process's LRU, sized from settings on first use (never at import)."""
    global _memory
    if _memory is None:
        _memory = ByteBudgetLRU(settings.AVATAR_RENDITION_MEMORY_BYTES)
    return _memory


def avatar_rendition(*, image: StoredImage, size: int, fmt: str) -> Rendition:
    """The uploaded avatar at `size` px in `fmt`. Raises RenditionUnavailable."""
    key = _identity("avatar", image.digest, str(size), fmt)
    data = _cached(key, lambda: _render_stored(image, size, fmt), kind=metrics.PHOTO, fmt=fmt)
    return Rendition(data=data, format=fmt, etag=f'"{key}"')


def avatar_rendition_or_interim(
    *, image: StoredImage, size: int, fmt: str
) -> tuple[Rendition, bool]:
    """avatar_rendition(), or the image's own format and True (an interim answer, to be cached
    briefly) when it asks for an AVIF not made yet while another is being encoded: a burst of
    cold AVIF renditions then costs JPEG encodes, and the AVIF ones follow at a lower priority.
    """
    if fmt != "AVIF":
        return avatar_rendition(image=image, size=size, fmt=fmt), False
    key = _identity("avatar", image.digest, str(size), fmt)
    data = _lookup(key)
    if data is None:
        data = slow_encodes.run(
            key,
            lambda: _cached(
                key, lambda: _render_stored(image, size, fmt), kind=metrics.PHOTO, fmt=fmt
            ),
        )
    if data is None:
        return avatar_rendition(image=image, size=size, fmt=image.format), True
    return Rendition(data=data, format=fmt, etag=f'"{key}"'), False


class Making:
    """How many renditions this process is drawing or encoding at this moment."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0

    def observed(self, make: Callable[[], bytes], *, kind: str, fmt: str) -> bytes:
        with self.lock:
            self.count += 1
        try:
            return metrics.render_observe(kind=kind, fmt=fmt, make=make)
        finally:
            with self.lock:
                self.count -= 1


making = Making()


class SlowEncodes:
    """Per process: the AVIF encodes under way or queued, at most one made while a request
    waits and AVIF_QUEUE more queued for one background thread at a lower priority."""

    def __init__(self, max_queued: int) -> None:
        self.max_queued = max_queued
        self.lock = threading.Lock()
        self.pending: set[str] = set()
        # time.monotonic() before which a request does not wait for an encode: the last
        # contention plus AVIF_CALM_SECONDS.
        self.calm_from = 0.0
        self._pool: tuple[int, ThreadPoolExecutor] | None = None

    def run(self, key: str, work: Callable[[], bytes]) -> bytes | None:
        """work() now when nothing else is pending, no other rendition is being made and none
        was for AVIF_CALM_SECONDS; else None, with work() queued if there is room and it is not
        pending already."""
        clock = time.monotonic()
        with self.lock:
            contended = bool(self.pending) or making.count > 0
            if contended:
                self.calm_from = clock + AVIF_CALM_SECONDS
            if key in self.pending or len(self.pending) > self.max_queued:
                return None
            now = not contended and clock >= self.calm_from
            self.pending.add(key)
        if now:
            try:
                return work()
            finally:
                self._done(key)
        try:
            self._thread().submit(self._queued, key, work)
        except RuntimeError:  # the interpreter is shutting down
            self._done(key)
        return None

    def _queued(self, key: str, work: Callable[[], bytes]) -> None:
        try:
            work()
        except RenditionUnavailable as error:  # the next request meets it and stands in
            logger.info("queued AVIF rendition not made: %s", error)
        finally:
            self._done(key)

    def _done(self, key: str) -> None:
        with self.lock:
            self.pending.discard(key)

    def _thread(self) -> ThreadPoolExecutor:
        with self.lock:
            # gunicorn preloads the app and forks: a pool made in the parent has no thread here.
            if self._pool is None or self._pool[0] != os.getpid():
                pool = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix=AVIF_THREAD_NAME, initializer=_yield_cores
                )
                self._pool = (os.getpid(), pool)
            return self._pool[1]


def _yield_cores() -> None:
    # On Linux the nice value belongs to the thread: only the queued encodes yield.
    if sys.platform == "linux":
        with suppress(OSError):  # a sandbox may refuse it: they keep the default priority
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), AVIF_NICENESS)


slow_encodes = SlowEncodes(AVIF_QUEUE)


def default_rendition(*, kind: str, seed: str, size: int, text: str, fmt: str) -> Rendition:
    """The generated default `kind` for a hash (`seed`) at `size` px in `fmt`."""
    if kind in HASH_INDEPENDENT_DEFAULTS:
        seed, text = "", ""
    key = _identity("default", kind, seed, str(size), fmt, text)
    data = _cached(
        key,
        lambda: _drawn(kind, seed, size, text, fmt),
        share=kind in SHARED_DEFAULTS,
        kind=kind,
        fmt=fmt,
    )
    return Rendition(data=data, format=fmt, etag=f'"{key}"')


def _drawn(kind: str, seed: str, size: int, text: str, fmt: str) -> bytes:
    # A drawing that comes as runs of rows (the identicon) is written as a palette PNG without
    # Pillow: the same pixels (tests/avatars/defaults/test_identicon.py) at a fraction of the cost.
    rows = render_default_rows(kind, seed, size, text) if fmt == "PNG" else None
    if rows is not None:
        return encode.encode_palette_rows(*rows)
    return encode.encode_drawing(render_default(kind, seed, size, text), fmt)


def _identity(*parts: str) -> str:
    # Hashed so any text (initials are arbitrary letters) makes a short key every cache backend
    # accepts, and so the ETag reveals nothing but identity.
    joined = "\x1f".join((f"v{RENDITION_VERSION}", *parts))
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _lookup(key: str) -> bytes | None:
    """A rendition from this process's memory or the shared cache, without making it."""
    data = memory_cache().get(key)
    if data is not None:
        metrics.rendition_lookup(layer=metrics.MEMORY, outcome=metrics.HIT)
        return data
    metrics.rendition_lookup(layer=metrics.MEMORY, outcome=metrics.MISS)
    data = _shared_get(f"rendition:{key}")
    if data is not None:
        memory_cache().put(key, data)
    return data


def _shared_get(cache_key: str) -> bytes | None:
    try:
        data = caches["default"].get(cache_key)
    except Exception as error:  # any backend's client error: render instead of failing
        logger.warning("rendition cache unreachable on get: %s", error)
        metrics.rendition_lookup(layer=metrics.SHARED, outcome=metrics.ERROR)
        return None
    found = data if isinstance(data, bytes) else None
    outcome = metrics.HIT if found is not None else metrics.MISS
    metrics.rendition_lookup(layer=metrics.SHARED, outcome=outcome)
    return found


def _cached(
    key: str, make: Callable[[], bytes], *, share: bool = True, kind: str, fmt: str
) -> bytes:
    memory = memory_cache()
    data = memory.get(key)
    if data is not None:
        metrics.rendition_lookup(layer=metrics.MEMORY, outcome=metrics.HIT)
        return data
    metrics.rendition_lookup(layer=metrics.MEMORY, outcome=metrics.MISS)
    if not share:
        data = making.observed(make, kind=kind, fmt=fmt)
        memory.put(key, data)
        return data
    cache_key = f"rendition:{key}"
    shared = caches["default"]
    data = _shared_get(cache_key)
    if data is None:
        data = making.observed(make, kind=kind, fmt=fmt)
        try:
            shared.set(cache_key, data, timeout=SHARED_CACHE_SECONDS)
        except Exception as error:  # as above: the image is still served
            logger.warning("rendition cache unreachable on set: %s", error)
    memory.put(key, data)
    return data


def _render_stored(image: StoredImage, size: int, fmt: str) -> bytes:
    preview_edge = min(square.PREVIEW_EDGE, image.size)
    name = image.preview if size <= preview_edge else image.master
    try:
        with default_storage.open(name, "rb") as stored:
            source = stored.read()
    except Exception as error:  # any backend's client error (S3's are botocore's, not OSError)
        metrics.storage_error()
        raise RenditionUnavailable(f"{name}: {error}") from error
    try:
        return render_source(source, size, fmt)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        metrics.storage_error()
        raise RenditionUnavailable(f"{name}: {error}") from error


def render_source(source: bytes, size: int, fmt: str) -> bytes:
    """Resize an encoded square source to `size` px and encode it as `fmt`.

    For JPEG, draft() lets the decoder scale by 1/2, 1/4 or 1/8 while decoding, so a small
    rendition never materialises the full-size pixels (see bench/bench_renditions.py).
    """
    with Image.open(io.BytesIO(source)) as opened:
        if opened.format == "JPEG" and size < opened.width:
            opened.draft("RGB", (size, size))
        opened.load()
        resized = square.resize_square(opened, size)
        return encode.encode(resized, fmt)
