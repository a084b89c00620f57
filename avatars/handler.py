"""The WSGI application: GET and HEAD of the avatar endpoint skip the middleware that does
nothing for them.

Nearly every request the origin serves is `GET /avatar/...`, and most of its cost was
middleware that has no work there: the session, CSRF, authentication, messages and login-lockout
middleware prepare state that the endpoint never reads (it drops the request's cookies first,
`avatars.middleware`), and WhiteNoise only serves STATIC_URL. `AvatarFastPath` hands those
requests to a second Django handler whose chain is MIDDLEWARE without them, so everything that
does shape the answer still runs exactly as for any other path: the security headers and HTTPS
redirect, the host check and `Content-Length` of CommonMiddleware, `X-Frame-Options`, the
database outage's 503, URL resolving, Django's exception handling and the request signals that
manage database connections. Other methods (a POST meets the CSRF check) and every other path go
through the whole stack. bench/bench_instructions.py measures the difference;
tests/avatars/test_handler.py holds the two paths to the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest
from django.middleware.common import CommonMiddleware
from django.utils.module_loading import import_string

from avatars.middleware import AVATAR_PATH_PREFIX

# Middleware with nothing to do for a cookieless GET or HEAD of the avatar endpoint. A
# middleware not named here (one added later, say) runs on the fast path too.
AVATAR_SKIPPED_MIDDLEWARE = frozenset(
    {
        # Its work, dropping the cookies, is done by AvatarFastPath itself; nothing left on
        # the fast path sets a cookie or varies on one.
        "avatars.middleware.CookielessAvatarMiddleware",
        # Serves STATIC_URL only (checked in AvatarHandler).
        "whitenoise.middleware.WhiteNoiseMiddleware",
        # Lazy request.session, request.user and message storage, and a CSRF check that
        # accepts every safe method: the endpoint reads none of them and, without cookies,
        # they add nothing to the response.
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        # Acts only on a request whose sign-in attempt it locked out.
        "axes.middleware.AxesMiddleware",
        # Images have no language: the endpoint is language-free (gravatar/locale.py), and
        # every request that activates a language undoes it when it ends.
        "gravatar.locale.LocaleMiddleware",
    }
)
SAFE_METHODS = frozenset({"GET", "HEAD"})
# Middleware the fast path runs in a cheaper form that gives the same answers.
AVATAR_REPLACED_MIDDLEWARE = {
    "django.middleware.common.CommonMiddleware": "avatars.handler.AvatarCommonMiddleware",
}

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class AvatarHandler(WSGIHandler):
    """Django's WSGI handler with MIDDLEWARE less AVATAR_SKIPPED_MIDDLEWARE."""

    def load_middleware(self, is_async: bool = False) -> None:
        if is_async:
            raise ImproperlyConfigured("AvatarHandler is for WSGI only")
        if ("/" + settings.STATIC_URL.lstrip("/")).startswith(AVATAR_PATH_PREFIX):
            raise ImproperlyConfigured("STATIC_URL inside /avatar/ needs WhiteNoise there")
        self._view_middleware: list[Callable[..., Any]] = []
        self._template_response_middleware: list[Callable[..., Any]] = []
        self._exception_middleware: list[Callable[..., Any]] = []
        # BaseHandler's own innermost step (resolve, view middleware, view); not in the stubs.
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        # As BaseHandler.load_middleware, for synchronous middleware.
        for path in reversed(avatar_middleware()):
            instance = import_string(path)(handler)
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


def avatar_middleware() -> list[str]:
    return [
        AVATAR_REPLACED_MIDDLEWARE.get(path, path)
        for path in settings.MIDDLEWARE
        if path not in AVATAR_SKIPPED_MIDDLEWARE
    ]


class AvatarCommonMiddleware(CommonMiddleware):
    """CommonMiddleware without the second URL resolution on a d=404 answer.

    On every 404 CommonMiddleware resolves the path again to learn whether APPEND_SLASH should
    redirect it (only when the path itself does not resolve). The endpoint's 404 is an answer
    of a view the path resolved to, so that check can only say no, and it cost a d=404 about a
    tenth of its work (bench/bench_instructions.py). A path that did not resolve is checked as
    before.
    """

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if request.resolver_match is not None:
            return False
        return bool(super().should_redirect_with_slash(request))


class AvatarFastPath:
    """GET and HEAD of /avatar/... to AvatarHandler, everything else to `application`."""

    def __init__(self, application: Callable[[Environ, StartResponse], Iterable[bytes]]) -> None:
        self.application = application
        self.avatar = AvatarHandler()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") in SAFE_METHODS and environ.get(
            "PATH_INFO", ""
        ).startswith(AVATAR_PATH_PREFIX):
            # What CookielessAvatarMiddleware does first on the full stack.
            environ.pop("HTTP_COOKIE", None)
            return self.avatar(environ, start_response)
        return self.application(environ, start_response)
