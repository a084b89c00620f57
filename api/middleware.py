"""No cookie is a credential on the API. A browser sends its session cookie to /v3/ with any
request a page of another site makes; were it read, that page could act for the person
(CSRF). Placed before the session, CSRF and auth middleware, this drops the request's cookies
on /v3/ and /api/v3/ so only `Authorization: Bearer` counts, and strips any cookie the stack
would set on the way out. Other paths pay one prefix check."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

API_PATH_PREFIXES = ("/v3/", "/api/v3/")


class CookielessApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(API_PATH_PREFIXES):
            return self.get_response(request)
        request.META.pop("HTTP_COOKIE", None)
        request.COOKIES = {}
        # No cookie, no CSRF: a request without cookies carries no ambient authority to forge.
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.cookies.clear()
        return response
