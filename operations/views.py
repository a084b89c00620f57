"""The operator's views: the Prometheus scrape and the admin's Service health page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from operations import services
from operations.access import metrics_access_allowed
from operations.exposition import metrics_collect

# Never kept by Varnish, a proxy or a browser: a scrape must see this moment's numbers.
NO_STORE = {"Cache-Control": "no-store"}


@require_safe
@transaction.non_atomic_requests
def metrics(request: HttpRequest) -> HttpResponse:
    """GET /metrics: the Prometheus text format, for allowed addresses or the bearer token."""
    if not settings.METRICS_ENABLED:
        raise Http404("Metrics are turned off (METRICS_ENABLED).")
    if not metrics_access_allowed(request):
        return HttpResponse(
            b"Metrics are readable from the configured addresses or with the bearer token.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
            headers=NO_STORE,
        )
    return HttpResponse(metrics_collect(), content_type=CONTENT_TYPE_LATEST, headers=NO_STORE)


@require_safe
def service_health(request: HttpRequest) -> HttpResponse:
    """GET /admin/service-health/?window=hour|day: graphs from Prometheus and every
    dependency's health now. For superusers: it names every node and its errors."""
    if not request.user.is_superuser:
        raise PermissionDenied
    window: services.Window = "day" if request.GET.get("window") == "day" else "hour"
    context = {
        **admin.site.each_context(request),
        "title": "Service health",
        "health": services.service_health(window=window),
        "windows": list(services.WINDOWS),
    }
    # admin_view (gravatar/urls.py) marks it never cached.
    return render(request, "operations/service_health.html", context)
