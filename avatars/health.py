"""Health endpoints for load balancers, DNS monitors and Varnish probes."""

from __future__ import annotations

import logging

from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers. Cheap enough for a probe every second."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """The database and the storage backend answer; a 503 takes this node out of rotation."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError as error:
        logger.warning("readyz: database unreachable: %s", error)
        checks["database"] = "unreachable"
    try:
        default_storage.exists("readyz")
        checks["storage"] = "ok"
    except Exception as error:  # any backend's client error means "not ready"
        logger.warning("readyz: storage unreachable: %s", error)
        checks["storage"] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )
