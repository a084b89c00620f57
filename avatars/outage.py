"""A database outage answers 503, not a 500 with a traceback per request.

While the database is unreachable every request that needs it gets a 503 with `Retry-After`
and `Cache-Control: no-store` (Varnish keeps serving its stale copy of an avatar and stores
nothing), rendered from `503.html` without touching the database. The outage is logged once
when it starts and once when a request reaches the database again, whatever the traffic in
between. The connection is closed at the first error, so the first request after recovery
connects afresh instead of reusing a dead socket.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from gravatar import metrics

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
# What the drivers raise for a database that is down, restarting or unreachable; an error in
# a query (ProgrammingError, IntegrityError) is a bug and stays a 500.
OUTAGE_ERRORS = (OperationalError, InterfaceError)


class _Outage:
    """Per process: since when the database has been failing, and how many requests got 503."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.since: float | None = None
        self.refused = 0

    def began(self, error: BaseException) -> None:
        with self.lock:
            first = self.since is None
            if first:
                self.since = time.monotonic()
            self.refused += 1
        if first:
            logger.error(
                "database unreachable (%s: %s); answering 503 until it is back",
                type(error).__name__,
                str(error).strip(),
            )

    def ended(self) -> None:
        with self.lock:
            since, refused = self.since, self.refused
            self.since, self.refused = None, 0
        if since is not None:
            logger.warning(
                "database reachable again after %.1f s; %d requests answered 503",
                time.monotonic() - since,
                refused,
            )


outage = _Outage()


def unavailable_response() -> HttpResponse:
    return HttpResponse(
        render_to_string("503.html"),
        status=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
    )


def connections_reset() -> None:
    """Drop every open connection after an outage error, so the next query connects afresh."""
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except DatabaseError:  # closing a dead socket may fail too; it is dropped either way
            connection.connection = None


def _database_answered() -> bool:
    """A request went through with an open connection: it reached the database."""
    return any(
        connection.connection is not None for connection in connections.all(initialized_only=True)
    )


class DatabaseOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if outage.since is not None and response.status_code != 503 and _database_answered():
            outage.ended()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OUTAGE_ERRORS):
            return None
        connections_reset()
        outage.began(exception)
        metrics.database_error(kind=metrics.UNAVAILABLE)
        return unavailable_response()
