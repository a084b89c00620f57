"""What `/metrics` answers: the processes' samples plus the queues, read from the database.

Under gunicorn each worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR and any
worker answering the scrape adds up every worker's (prometheus_client's multiprocess mode);
elsewhere (the test server, `runserver`) they are this process's own.

The purge backlog and the moderation queue are rows, so they are counted at scrape time,
two indexed queries per scrape (every 15 s or so), never on a request's path. The app rather
than the purge worker reports them: the backlog grows exactly when the worker is down or
cannot reach a node, and a worker that is down reports nothing. Every app node reports the
same numbers; read them with max().
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from avatars.admin import WAITING
from avatars.models import Avatar, PurgeRequest
from avatars.outage import OUTAGE_ERRORS, connections_reset
from gravatar import metrics

logger = logging.getLogger(__name__)

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class QueueCollector:
    """The purge queue's backlog and oldest age, and the moderation queue, at scrape time."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "avatars_database_up", "Whether the scrape's queue queries reached the database."
        )
        try:
            backlog = PurgeRequest.objects.filter(delivered_at__isnull=True).aggregate(
                rows=Count("pk"), oldest=Min("created_at")
            )
            waiting = dict(
                Avatar.objects.filter(state__in=WAITING)
                .values_list("state")
                .annotate(count=Count("pk"))
                .values_list("state", "count")
            )
        except DatabaseError as error:
            if isinstance(error, OUTAGE_ERRORS):
                connections_reset()
            metrics.database_error(kind=metrics.UNAVAILABLE)
            logger.warning("metrics: the queue counts could not be read: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "avatars_purge_queue_rows",
            "Purges not yet confirmed by every Varnish node (echoes due in the next seconds "
            "included).",
            value=backlog["rows"],
        )
        oldest = backlog["oldest"]
        yield GaugeMetricFamily(
            "avatars_purge_queue_oldest_age_seconds",
            "Age of the oldest purge not yet confirmed by every node; 0 when none waits.",
            value=(timezone.now() - oldest).total_seconds() if oldest else 0.0,
        )
        queue = GaugeMetricFamily(
            "avatars_moderation_queue_avatars",
            "Avatars waiting for a moderator, by state (new, flagged).",
            labels=["state"],
        )
        for state in WAITING:
            queue.add_metric([str(state)], waiting.get(state, 0))
        yield queue


class _Scrape:
    """One scrape's collectors: prometheus_client's registries accept any object with
    collect()."""

    def __init__(self, *sources: CollectorRegistry | QueueCollector) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


def metrics_collect() -> bytes:
    """The Prometheus text exposition of this node."""
    metrics.flush()  # this worker's own tally; the others' is at most FLUSH_SECONDS old
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
        scrape = _Scrape(processes, QueueCollector())
    else:
        scrape = _Scrape(REGISTRY, QueueCollector())
    return generate_latest(scrape)
