"""What a hash serves has changed: tell the edge caches.

Every service that changes what an address's hashes serve calls `hashes_changed` inside its
transaction, with both digests of every address concerned. The purge is recorded in that
transaction and sent to every Varnish node right after the commit (avatars/purging.py);
`manage.py purge_worker` retries it until every node has it.
"""

from __future__ import annotations

from collections.abc import Iterable

from avatars.purging import purge_queue


def hashes_changed(digests: Iterable[str]) -> None:
    """Queue a purge of these digests' objects on every Varnish node after the commit.

    A no-op without VARNISH_NODES. Outside a transaction the purge is sent at once.
    """
    purge_queue(digests=digests)
