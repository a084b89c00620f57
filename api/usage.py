"""The counters a site key's owner sees on the API tokens page: how many requests it made and
when it was last used.

A key reading profiles in bulk makes up to `API_KEY_RATE_LIMIT` requests an hour, and the
hot read path must not write on each of them. So each worker counts a key's requests in
memory and adds them to the key's row at most once every `WRITE_EVERY_SECONDS` (one UPDATE
per key per worker a minute), together with any other key whose count waited that long;
what is still counted when a gunicorn worker exits is written then (its worker_exit hook). The
owner's page is thus at most about a minute behind; a worker killed outright loses its last
minute's count, never more.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Final

from django.db import DatabaseError
from django.db.models import F
from django.utils import timezone

from api.models import SiteKey

logger = logging.getLogger(__name__)

WRITE_EVERY_SECONDS: Final = 60.0


class _Counts:
    """This process's counts not written yet, and when each key's were last written."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.pending: dict[int, int] = {}  # key id -> requests not written yet
        self.since: dict[int, float] = {}  # key id -> when its oldest pending request came
        self.written: dict[int, float] = {}  # key id -> when its count was last written


_counts = _Counts()


def site_key_used(pk: int) -> None:
    """Count one request of the key; write the counts that are due."""
    counts = _current()
    now = time.monotonic()
    with counts.lock:
        counts.pending[pk] = counts.pending.get(pk, 0) + 1
        counts.since.setdefault(pk, now)
        if now - counts.written.get(pk, -WRITE_EVERY_SECONDS) < WRITE_EVERY_SECONDS:
            return
        # Due: this key, and every other whose oldest count waited as long.
        due = [
            key
            for key, first in counts.since.items()
            if key == pk or now - first >= WRITE_EVERY_SECONDS
        ]
        batch = _take(counts, due, now)
    _write(batch)


def site_key_uses_write() -> None:
    """Write every count this process holds (at exit; tests: "a minute later")."""
    counts = _current()
    with counts.lock:
        batch = _take(counts, list(counts.pending), time.monotonic())
    _write(batch)


def _take(counts: _Counts, keys: list[int], now: float) -> dict[int, int]:
    # A key written over a minute ago is due anyway: forgetting it keeps `written` to the
    # keys of the last minute.
    counts.written = {
        key: at for key, at in counts.written.items() if now - at < WRITE_EVERY_SECONDS
    }
    batch = {key: counts.pending.pop(key) for key in keys if key in counts.pending}
    for key in batch:
        counts.since.pop(key, None)
        counts.written[key] = now
    return batch


def _write(batch: dict[int, int]) -> None:
    moment = timezone.now()
    for pk, hits in batch.items():
        # A revoked key's row is gone: the UPDATE matches nothing, which is right.
        SiteKey.objects.filter(pk=pk).update(
            request_count=F("request_count") + hits, last_used_at=moment
        )


def _current() -> _Counts:
    """A forked worker starts with no counts: its parent's would be written twice."""
    global _counts
    if _counts.pid != os.getpid():
        _counts = _Counts()
    return _counts


def site_key_uses_write_at_exit() -> None:
    """gunicorn's worker_exit (deploy/gunicorn.conf.py): the worker's last counts."""
    try:
        site_key_uses_write()
    except DatabaseError as error:
        logger.warning("Site key counts of this worker not written at its exit: %s", error)
