"""A URL configuration for one edge test: a profile-shaped URL whose answer sets a cookie but
says it may be cached, which Varnish must still never store."""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, re_path

from avatars import health


def cookie_page(request: HttpRequest, name: str) -> HttpResponse:
    response = HttpResponse(f"a page for {name}")
    response["Cache-Control"] = "public, max-age=300, s-maxage=604800"
    response["xkey"] = "profile"
    response.set_cookie("visitor", secrets.token_hex(8))
    return response


# /healthz first: Varnish's probe keeps asking for it.
urlpatterns: list[URLPattern] = [
    path("healthz", health.healthz),
    re_path(r"^(?P<name>[^/.]+)$", cookie_page),
]
