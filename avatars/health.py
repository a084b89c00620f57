"""Health endpoints for load balancers, DNS monitors and Varnish probes, and the checks behind
them, which the admin's Service health page (operations/) runs too."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import caches
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

OK, UNREACHABLE, NOT_CONFIGURED = "ok", "unreachable", "not configured"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers. Cheap enough for a probe every second."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """The database and the storage backend answer; a 503 takes this node out of rotation."""
    checks = {"database": database_status(), "storage": storage_status()}
    ready = all(value == OK for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("readyz: database unreachable: %s", error)
        return UNREACHABLE
    return OK


def storage_status() -> str:
    try:
        default_storage.exists("readyz")
    except Exception as error:  # any backend's client error means "not ready"
        logger.warning("readyz: storage unreachable: %s", error)
        return UNREACHABLE
    return OK


def redis_status() -> str:
    """Whether the shared cache's Redis answers a PING within REDIS_TIMEOUT_MS. Not part of
    /readyz: the service works without Redis (avatars/cache.py), only slower."""
    if not settings.REDIS_URL:
        return NOT_CONFIGURED
    try:
        client = caches["default"]._cache.get_client(write=False)  # type: ignore[attr-defined]
        client.ping()
    except Exception as error:  # redis-py's errors and OSError alike mean "not answering"
        logger.warning("Redis unreachable: %s", error)
        return UNREACHABLE
    return OK
