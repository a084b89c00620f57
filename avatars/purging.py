"""Purges on the Varnish nodes: queued in the transaction that changed what a hash serves,
sent right after the commit, and retried by `manage.py purge_worker` until every node took it.

A purge is a row (`PurgeRequest`) written in the same transaction as the change, so a crash
between the commit and the HTTP request loses nothing: the worker finds the row. A purge
counts as delivered only when every configured node answered 200; until then the whole row
is retried on every node (purging twice is harmless), with a growing delay.

Each change also queues an echo: the same purge again a few seconds later, for the render
that read the database just before the commit and stored the old image in Varnish just after
the first purge.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.db import transaction
from django.utils import timezone

from avatars.checks import is_http_base_url
from avatars.models import PurgeRequest
from gravatar import metrics

logger = logging.getLogger(__name__)

# Per node and request. The after-commit delivery runs in the request that made the change,
# so an unreachable node may cost it this much; the worker catches up either way.
TIMEOUT_SECONDS = 1.0
# The worker leaves a new row alone this long: the after-commit delivery is on it.
AFTER_COMMIT_GRACE = timedelta(seconds=10)
ECHO_DELAY = timedelta(seconds=5)
# 1, 2, 4 ... seconds between attempts, never more than this, so a node that comes back after
# minutes gets its backlog within half a minute.
MAX_RETRY_DELAY = timedelta(seconds=30)
# A worker that took a batch and died: its rows are due again after this.
LEASE = timedelta(minutes=2)
KEEP_DELIVERED = timedelta(days=1)
# One xkey-purge header; well below Varnish's 8 KB header limit.
MAX_KEYS_PER_REQUEST = 64


class PurgeFailed(Exception):
    """A node did not confirm the purge."""


@dataclass
class DeliveryPass:
    """One round of the worker. Nodes that failed in this round are not tried again in it:
    one unreachable node must not cost a timeout per queued purge."""

    nodes: Sequence[str]
    down: dict[str, str] = field(default_factory=dict)
    delivered: int = 0
    failed: int = 0


class _NodeHealth:
    """Per process: the nodes that last failed to take a purge. A node going down and coming
    back is logged once each, however many purges and rounds the outage spans."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down: dict[str, float] = {}

    def failed(self, node: str, error: str) -> None:
        with self.lock:
            first = node not in self.down
            self.down.setdefault(node, time.monotonic())
        if first:
            logger.warning(
                "Varnish node %s is not taking purges (%s); they stay queued and are retried",
                node,
                error,
            )
        else:
            logger.debug("Varnish node %s still not taking purges: %s", node, error)

    def answered(self, node: str) -> None:
        if node not in self.down:  # the common case, without the lock
            return
        with self.lock:
            since = self.down.pop(node, None)
        if since is not None:
            logger.warning(
                "Varnish node %s takes purges again after %.1f s", node, time.monotonic() - since
            )


node_health = _NodeHealth()


def varnish_nodes() -> list[str]:
    return [node.rstrip("/") for node in settings.VARNISH_NODES]


def node_label(node: str) -> str:
    """A node in the metrics: its host and port as configured, one of VARNISH_NODES."""
    return urlsplit(node).netloc or node


def purge_queue(*, digests: Iterable[str]) -> PurgeRequest | None:
    """Record a purge of these digests in the current transaction and send it after the
    commit. Without VARNISH_NODES nothing is recorded: there is no cache to keep fresh, and
    the rows would only pile up."""
    keys = sorted({digest.strip().lower() for digest in digests if digest.strip()})
    if not keys or not settings.VARNISH_NODES:
        return None
    now = timezone.now()
    joined = " ".join(keys)
    purge = PurgeRequest.objects.create(digests=joined, next_attempt_at=now + AFTER_COMMIT_GRACE)
    PurgeRequest.objects.create(digests=joined, next_attempt_at=now + ECHO_DELAY, echo=True)
    # robust: a failed delivery is the worker's job, never an error for the person.
    transaction.on_commit(partial(_deliver_after_commit, purge.pk), robust=True)
    return purge


def _deliver_after_commit(pk: int) -> None:
    purge = PurgeRequest.objects.filter(pk=pk, delivered_at__isnull=True).first()
    if purge is not None:
        purge_deliver(purge=purge, delivery=DeliveryPass(varnish_nodes()), parallel=True)


def purge_deliver(*, purge: PurgeRequest, delivery: DeliveryPass, parallel: bool = False) -> bool:
    """Send one purge to every node and record the outcome on its row."""
    keys = purge.digests.split()
    targets = [node for node in delivery.nodes if node not in delivery.down]
    errors = dict.fromkeys(delivery.nodes, "") | {
        node: f"skipped: {error}" for node, error in delivery.down.items()
    }
    send = partial(_send_to_node, keys=keys)
    if parallel and len(targets) > 1:
        with ThreadPoolExecutor(max_workers=len(targets)) as pool:
            outcomes = list(pool.map(send, targets))
    else:
        outcomes = [send(node) for node in targets]
    for node, error in zip(targets, outcomes, strict=True):
        errors[node] = error
        metrics.purge_delivery(node=node_label(node), delivered=not error)
        if error:
            # The rest of this round skips the node; the log says so once per outage.
            delivery.down[node] = error
            node_health.failed(node, error)
        else:
            node_health.answered(node)
    failures = {node: error for node, error in errors.items() if error}
    now = timezone.now()
    purge.attempts += 1
    if not failures:
        purge.delivered_at = now
        purge.last_error = ""
        delivery.delivered += 1
        if not purge.echo:  # an echo waits five seconds by design
            metrics.purge_delivered(seconds=(now - purge.created_at).total_seconds())
    else:
        purge.next_attempt_at = now + retry_delay(purge.attempts)
        purge.last_error = "; ".join(f"{node}: {error}" for node, error in failures.items())
        delivery.failed += 1
    purge.save(update_fields=["attempts", "delivered_at", "next_attempt_at", "last_error"])
    return not failures


def retry_delay(attempts: int) -> timedelta:
    return min(timedelta(seconds=2 ** min(attempts - 1, 16)), MAX_RETRY_DELAY)


def _send_to_node(node: str, *, keys: Sequence[str]) -> str:
    """Why the node did not purge these keys; empty when it did."""
    try:
        for start in range(0, len(keys), MAX_KEYS_PER_REQUEST):
            send_purge(node, keys[start : start + MAX_KEYS_PER_REQUEST])
    except PurgeFailed as error:
        return str(error)
    return ""


def send_purge(node: str, keys: Sequence[str], *, timeout: float = TIMEOUT_SECONDS) -> int:
    """PURGE by xkey on one node; the number of objects it dropped."""
    parts = urlsplit(node)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request("PURGE", parts.path or "/", headers={"xkey-purge": " ".join(keys)})
        response = connection.getresponse()
        reason = response.reason
        response.read()
    except (OSError, http.client.HTTPException) as error:
        raise PurgeFailed(f"{type(error).__name__}: {error}") from None
    finally:
        connection.close()
    if response.status != 200:
        raise PurgeFailed(f"HTTP {response.status} {reason}")
    # default.vcl answers "Purged <n>".
    count = reason.rpartition(" ")[2]
    return int(count) if count.isdigit() else 0


def purges_deliver_due(*, limit: int = 100, now: datetime | None = None) -> DeliveryPass:
    """The worker's round: take the purges that are due and try each on every node."""
    now = now or timezone.now()
    delivery = DeliveryPass(varnish_nodes())
    with transaction.atomic():
        # Several workers may run (one per app host); each takes its own rows.
        batch = list(
            PurgeRequest.objects.select_for_update(skip_locked=True)
            .filter(delivered_at__isnull=True, next_attempt_at__lte=now)
            .order_by("next_attempt_at")[:limit]
        )
        PurgeRequest.objects.filter(pk__in=[purge.pk for purge in batch]).update(
            next_attempt_at=now + LEASE
        )
    for purge in batch:
        purge_deliver(purge=purge, delivery=delivery)
    return delivery


def purges_prune(*, now: datetime | None = None) -> int:
    """Forget delivered purges after a day, and undelivered ones once every object they were
    meant to drop has expired from Varnish anyway (its TTL plus grace)."""
    now = now or timezone.now()
    pointless_after = timedelta(
        seconds=settings.AVATAR_SHARED_MAX_AGE
        + max(settings.AVATAR_STALE_IF_ERROR, settings.AVATAR_STALE_WHILE_REVALIDATE)
    )
    delivered, _ = PurgeRequest.objects.filter(delivered_at__lt=now - KEEP_DELIVERED).delete()
    expired, _ = PurgeRequest.objects.filter(
        delivered_at__isnull=True, created_at__lt=now - pointless_after
    ).delete()
    if expired:
        logger.warning("dropped %d purges never delivered: their objects have expired", expired)
    return delivered + expired


@register()
def check_varnish_nodes(**_: object) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for node in settings.VARNISH_NODES:
        if not is_http_base_url(node):
            errors.append(
                Error(
                    f"VARNISH_NODES entry {node!r} is not an http(s) URL with a host",
                    hint="List base URLs, e.g. http://10.0.0.5:6081,http://10.0.0.6:6081",
                    id="avatars.E101",
                )
            )
    return errors
