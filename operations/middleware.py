"""Every request counted and timed, by endpoint group and status (gravatar/metrics.py)."""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter

from django.http import HttpRequest, HttpResponse

from gravatar import metrics


class RequestMetricsMiddleware:
    """First in MIDDLEWARE, so the time covers every other middleware. Django turns an
    exception inside into a response before it gets here, so each request is counted once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = perf_counter()
        response = self.get_response(request)
        metrics.request_observe(
            group=metrics.endpoint_group(request.path_info),
            status=response.status_code,
            seconds=perf_counter() - started,
        )
        return response
