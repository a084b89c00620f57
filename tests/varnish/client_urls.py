"""A URL configuration for one edge test: a /v3/ path answering with the client address the
app would count a rate limit against (avatars.client_address.client_ip), as it reached it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path, re_path

from avatars.client_address import client_ip


def who(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(client_ip(request))
    # Says it may be cached, as the profile answers do: Varnish must pass it anyway.
    response["Cache-Control"] = "public, max-age=300, s-maxage=604800"
    response["xkey"] = "profile"
    # Cookies never reach /v3/: the API reads no session.
    response["X-Cookies-Seen"] = str(len(request.COOKIES))
    return response


# The app's own routes after it: Varnish's probe keeps asking for /healthz.
urlpatterns: list[URLPattern | URLResolver] = [
    re_path(r"^(?:api/)?v3/who$", who),
    path("", include("gravatar.urls")),
]
