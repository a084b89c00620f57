"""What a hash serves has changed: tell the edge caches.

Every service that changes what an address's hashes serve calls `hashes_changed` inside its
transaction. The Varnish tier issue turns this into a durable purge queue.
"""

from __future__ import annotations

from collections.abc import Iterable


def hashes_changed(digests: Iterable[str]) -> None:
    """Queue a purge of these digests' objects on every Varnish node after the commit."""
    _ = set(digests)
