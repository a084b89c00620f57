from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from prometheus_client import Gauge, start_http_server

from avatars.outage import OUTAGE_ERRORS, connections_reset
from avatars.purging import purges_deliver_due, purges_prune
from gravatar import metrics

logger = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 60
# While the database is unreachable: 1, 2, 4 ... seconds between attempts, never more than
# this, so the queue moves again within seconds of the database coming back.
MAX_DATABASE_RETRY_SECONDS = 10.0

# The worker's own, served on PURGE_WORKER_METRICS_PORT with its deliveries (gravatar/metrics.py):
# a worker that stopped working shows as a timestamp that no longer moves.
LAST_ROUND = Gauge(
    "avatars_purge_worker_last_round_timestamp_seconds",
    "When the purge worker last finished a round (Unix time).",
)


class Command(BaseCommand):
    help = (
        "Deliver queued Varnish purges: those the app could not send right after the commit "
        "(a node was down, or the app died first) and the delayed second purge of every "
        "change. Runs until stopped, through database and Varnish outages; --once for one "
        "round."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One round, then exit")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between rounds (default 1)"
        )

    def serve_metrics(self) -> None:
        host, port = settings.PURGE_WORKER_METRICS_HOST, settings.PURGE_WORKER_METRICS_PORT
        try:
            start_http_server(port, addr=host)
        except OSError as error:
            # A second worker typed in another terminal finds the port taken: it delivers
            # all the same, unseen.
            logger.warning("purge worker metrics not served on %s:%d: %s", host, port, error)
        else:
            logger.info("purge worker metrics on http://%s:%d/metrics", host, port)

    def handle(self, *args: Any, once: bool, interval: float, **_: Any) -> None:
        stop = threading.Event()
        if not once:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            if settings.PURGE_WORKER_METRICS_PORT:
                self.serve_metrics()
            if not settings.VARNISH_NODES:
                logger.info("VARNISH_NODES is empty: nothing is queued, nothing to deliver")
        last_prune = 0.0
        failing_since: float | None = None
        retry_in = 1.0
        while True:
            try:
                delivery = purges_deliver_due()
                if once or time.monotonic() - last_prune > PRUNE_EVERY_SECONDS:
                    purges_prune()
                    last_prune = time.monotonic()
            except OUTAGE_ERRORS as error:
                if once:
                    raise
                # The connection is dead or was never made; the next round connects afresh.
                connections_reset()
                metrics.database_error(kind=metrics.UNAVAILABLE)
                if failing_since is None:
                    failing_since = time.monotonic()
                    logger.error(
                        "purge worker: database unreachable (%s: %s); retrying every %.0f s "
                        "at most",
                        type(error).__name__,
                        str(error).strip(),
                        MAX_DATABASE_RETRY_SECONDS,
                    )
                else:
                    logger.debug("purge worker: database still unreachable: %s", error)
                if stop.wait(retry_in):
                    return
                retry_in = min(retry_in * 2, MAX_DATABASE_RETRY_SECONDS)
                continue
            LAST_ROUND.set_to_current_time()
            if failing_since is not None:
                logger.warning(
                    "purge worker: database reachable again after %.1f s",
                    time.monotonic() - failing_since,
                )
                failing_since, retry_in = None, 1.0
            # Not for rounds that only failed: a node's outage is logged once (purging.py).
            if delivery.delivered:
                logger.info(
                    "purges: %d delivered, %d to retry", delivery.delivered, delivery.failed
                )
            if once:
                self.stdout.write(f"{delivery.delivered} delivered, {delivery.failed} to retry")
                return
            # A long-lived process: a database restart must not leave it with a dead
            # connection, and CONN_MAX_AGE applies as in a request.
            close_old_connections()
            if stop.wait(interval):
                return
