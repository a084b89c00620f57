"""A bounded per-process memo for the avatar endpoint's pure steps (parsing, header blocks).

Hot URLs repeat: the same query string and the same headers come back thousands of times a
second, so what is computed from them alone is remembered. Bounded in entries; when full it
starts again (the hot entries are back after one request each), which keeps a read a plain
dict lookup with no lock and no bookkeeping on the hot path.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedMemo(Generic[V]):
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: dict[Hashable, V] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        return self._entries.get(key)

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
