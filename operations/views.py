"""The operator's views: the Prometheus scrape and the admin's Service health page."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

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
