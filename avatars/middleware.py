"""Keep cookies away from the public avatar endpoint.

Its responses are `public, s-maxage`: one cookie set on them (Django's CSRF middleware renews
a malformed `csrftoken` on any response) or a `Vary: Cookie` would be cached for everyone, or
make every visitor a separate cache entry. Placed first in MIDDLEWARE, this drops the request's
cookies before the session, CSRF and auth middleware see them, and strips whatever they add to
the response anyway. Other paths pay one string prefix check.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

# The public endpoint's URL space (avatars/urls.py): /avatar/ and /avatar/<hash>.
AVATAR_PATH_PREFIX = "/avatar/"


class CookielessAvatarMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(AVATAR_PATH_PREFIX):
            return self.get_response(request)
        request.META.pop("HTTP_COOKIE", None)
        request.COOKIES = {}
        response = self.get_response(request)
        response.cookies.clear()
        vary = response.headers.get("Vary")
        if vary is not None and "cookie" in vary.lower():
            kept = [
                token.strip()
                for token in vary.split(",")
                if token.strip() and token.strip().lower() != "cookie"
            ]
            if kept:
                response.headers["Vary"] = ", ".join(kept)
            else:
                del response.headers["Vary"]
        return response
