"""The visitor's language for the pages, and none for the cached, machine-read answers.

Django's LocaleMiddleware activates a language on every request and adds `Vary:
Accept-Language` and `Content-Language` to every answer. On the avatar endpoint, the images of
/userimage/, the profile formats (/<name>.json, .xml, .vcf, .qr, .php), /v3/, the OAuth token
endpoints, /metrics, the health checks and static files, that would split each cached object
into one per browser language, for bytes that never change with it. So this middleware does
nothing there (`language_free`), and the avatar fast path (avatars/handler.py) skips it
altogether.

Elsewhere the language is the switcher's choice (the language cookie), else the browser's
Accept-Language, else English, as Django chooses it; except on the public profile page
(`/<slug>`), which Varnish caches for everyone with cookies stripped: there it is read from
Accept-Language alone, which the edge rewrites to one of our languages (taken from the cookie
when there is one; deploy/varnish/default.vcl), so `Vary: Accept-Language` is the whole truth
and the cache holds at most one copy per language.

Every language activated for a request is undone when it ends, so a language-free answer,
served next by the same thread, runs in English whatever the request before it asked for.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

from api.middleware import API_PATH_PREFIXES
from avatars.middleware import AVATAR_PATH_PREFIX
from profiles.rules import RESERVED_SLUGS

# Answers read by programs, whose bytes are the same in every language. The static and media
# prefixes are added from the settings; a one-segment path with a dot (the profile formats,
# robots.txt) is language-free too.
LANGUAGE_FREE_PREFIXES = (
    AVATAR_PATH_PREFIX,
    "/userimage/",
    *API_PATH_PREFIXES,
    "/oauth/token/",
    "/oauth/revoke/",
)
LANGUAGE_FREE_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})


def language_free(path: str, prefixes: tuple[str, ...]) -> bool:
    """Whether `path` answers the same in every language; `prefixes` are LANGUAGE_FREE_PREFIXES
    with the static and media prefixes of the settings (LocaleMiddleware)."""
    if path.startswith(prefixes) or path in LANGUAGE_FREE_PATHS:
        return True
    # /<name>.<format>: one segment with a dot.
    return path.count("/") == 1 and "." in path


def public_page(path: str) -> bool:
    """/<slug>, the public profile page (and its not-found twin), cached at the edge."""
    return path.count("/") == 1 and len(path) > 1 and path[1:] not in RESERVED_SLUGS


def language_from_accept(header: str) -> str:
    """The first of LANGUAGES the header accepts, by its q order; else LANGUAGE_CODE."""
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


class LocaleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.prefixes = (
            *LANGUAGE_FREE_PREFIXES,
            "/" + settings.STATIC_URL.lstrip("/"),
            "/" + settings.MEDIA_URL.lstrip("/"),
        )

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info
        if language_free(path, self.prefixes):
            return self.get_response(request)
        if public_page(path):
            language = language_from_accept(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
            varies: tuple[str, ...] = ("Accept-Language",)
        else:
            language = translation.get_language_from_request(request)
            # The choice is a cookie: an answer chosen by it differs by it.
            varies = ("Accept-Language", "Cookie")
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        patch_vary_headers(response, varies)
        response.headers.setdefault("Content-Language", language)
        return response
