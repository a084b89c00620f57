"""The WSGI application's fast path (avatars/handler.py): GET and HEAD of /avatar/ skip the
middleware that has nothing to do for them, and every client gets exactly what the whole
stack gives: the same status, headers in the same order, and body, first time and from the
remembered parse and header block."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.urls import path as url_path

from avatars import request as avatar_request
from avatars import responses
from avatars import urls as avatar_urls
from avatars.handler import (
    AVATAR_REPLACED_MIDDLEWARE,
    AVATAR_SKIPPED_MIDDLEWARE,
    AvatarFastPath,
    avatar_middleware,
)
from tests.personas import Personas, make_personas

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_caches")]

UNKNOWN = "0123456789abcdef0123456789abcdef"
CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
Answer = tuple[str, list[tuple[str, str]], bytes]


@pytest.fixture
def people() -> Personas:
    return make_personas()


def call(
    application: Callable[..., Iterable[bytes]],
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    scheme: str = "http",
) -> Answer:
    """One request as gunicorn hands it over, the response closed as gunicorn closes it."""
    path_info, _, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
        started.append((status, response_headers))

    result = application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()  # type: ignore[attr-defined]
    status, response_headers = started[0]
    return status, response_headers, body


def forget_parses_and_headers() -> None:
    avatar_request.parsed_requests.clear()
    avatar_request.parsed_queries.clear()
    responses.header_blocks.clear()


def same_answers(path: str, **options: Any) -> Answer:
    """The whole stack's answer, built from scratch, and the fast path's, twice (the second
    time from what the first remembered): all three the same."""
    full, fast = WSGIHandler(), AvatarFastPath(WSGIHandler())
    forget_parses_and_headers()
    expected = call(full, path, **options)
    forget_parses_and_headers()
    first = call(fast, path, **options)
    again = call(fast, path, **options)
    assert first == expected
    assert again == expected
    return expected


def header(answer: Answer, name: str) -> str | None:
    return next((value for key, value in answer[1] if key.lower() == name.lower()), None)


def test_a_known_hash_gets_what_the_whole_stack_gives(people):
    md5 = people.alice_address.md5
    for path in (f"/avatar/{md5}", f"/avatar/{md5}?s=80", f"/avatar/{md5}.webp?size=120"):
        answer = same_answers(path)
        assert answer[0] == "200 OK"
        assert header(answer, "X-Frame-Options") == "DENY"  # middleware that still runs
        assert header(answer, "Referrer-Policy") == "same-origin"
    assert header(same_answers(f"/avatar/{md5}", headers={"Accept": CHROME_ACCEPT}), "Vary")


def test_head_gets_the_headers_of_get_without_a_body(people):
    md5 = people.alice_address.md5
    head = same_answers(f"/avatar/{md5}?s=64", method="HEAD")
    get = same_answers(f"/avatar/{md5}?s=64")
    assert head[1] == get[1]
    assert head[2] == b""
    assert get[2]


def test_defaults_not_found_and_redirects_match_the_whole_stack(people):
    md5 = people.alice_address.md5
    assert same_answers(f"/avatar/{UNKNOWN}?d=identicon")[0] == "200 OK"
    assert same_answers(f"/avatar/{UNKNOWN}?d=404")[0] == "404 Not Found"
    assert same_answers(f"/avatar/{UNKNOWN}?d=404", method="HEAD")[2] == b""
    assert same_answers(f"/avatar/{md5}?f=y&d=retro&s=40")[0] == "200 OK"
    assert same_answers(f"/avatar/{md5}?r=x&d=404&f=1")[0] == "404 Not Found"
    redirect = same_answers(f"/avatar/{UNKNOWN}?d=https%3A%2F%2Fexample.com%2Fa.png")
    assert redirect[0].startswith("302")
    assert same_answers("/avatar/?s=20&d=mp")[0] == "200 OK"
    assert same_answers("/avatar/not-a-hash?initials=ab&d=initials")[0] == "200 OK"
    assert same_answers("/avatar/a/b")[0] == "404 Not Found"


def test_a_header_block_recorded_for_one_hash_serves_another_exactly(people):
    full, fast = WSGIHandler(), AvatarFastPath(WSGIHandler())
    other = "fedcba9876543210fedcba9876543210"
    sha256 = people.alice_address.sha256
    for first, then in (
        (f"/avatar/{UNKNOWN}?d=identicon", f"/avatar/{other}?d=identicon"),
        (f"/avatar/{UNKNOWN}?d=404", f"/avatar/{other}?d=404"),
        (f"/avatar/{people.alice_address.md5}?s=90", f"/avatar/{sha256}?s=91"),
        ("/avatar/?s=30", "/avatar/nothing?s=31"),
    ):
        forget_parses_and_headers()
        call(fast, first)
        answer = call(fast, then)
        forget_parses_and_headers()
        assert answer == call(full, then)


def test_a_conditional_request_gets_the_same_304(people):
    md5 = people.alice_address.md5
    etag = header(same_answers(f"/avatar/{md5}"), "ETag")
    assert etag
    assert same_answers(f"/avatar/{md5}", headers={"If-None-Match": etag})[0].startswith("304")


def test_cookies_never_reach_the_endpoint_on_the_fast_path(people):
    cookies = {"Cookie": "csrftoken=bad; sessionid=garbage; messages=x"}
    answer = same_answers(f"/avatar/{people.alice_address.md5}", headers=cookies)
    assert header(answer, "Set-Cookie") is None
    assert "cookie" not in (header(answer, "Vary") or "").lower()


def test_a_host_not_allowed_gets_the_same_400():
    answer = same_answers(f"/avatar/{UNKNOWN}", headers={"Host": "evil.example"})
    assert answer[0].startswith("400")


def test_other_methods_take_the_whole_stack():
    # The CSRF check answers a POST before the view's 405, as it always did.
    assert same_answers(f"/avatar/{UNKNOWN}", method="POST")[0].startswith("403")
    assert same_answers(f"/avatar/{UNKNOWN}", method="OPTIONS")[0].startswith("405")


def test_https_redirect_and_hsts_still_apply(people, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    md5 = people.alice_address.md5
    redirect = same_answers(f"/avatar/{md5}")
    assert redirect[0].startswith("301")
    assert header(redirect, "Location") == f"https://127.0.0.1:8000/avatar/{md5}"
    secure = same_answers(f"/avatar/{md5}", scheme="https")
    assert header(secure, "Strict-Transport-Security") == "max-age=3600"


def test_a_changed_setting_changes_the_remembered_headers(people, settings):
    md5 = people.alice_address.md5
    fast = AvatarFastPath(WSGIHandler())
    before = call(fast, f"/avatar/{md5}")
    settings.AVATAR_BROWSER_MAX_AGE = 17
    settings.AVATAR_DEFAULT = "retro"
    after = call(fast, f"/avatar/{md5}")
    assert header(before, "Cache-Control") != header(after, "Cache-Control")
    assert "max-age=17," in (header(after, "Cache-Control") or "")
    assert header(call(fast, f"/avatar/{UNKNOWN}"), "Content-Type") == "image/png"
    assert header(call(fast, f"/avatar/{UNKNOWN}"), "ETag") == header(
        call(WSGIHandler(), f"/avatar/{UNKNOWN}?d=retro"), "ETag"
    )


def test_only_middleware_with_nothing_to_do_is_skipped(settings):
    kept = avatar_middleware()
    assert kept == [
        AVATAR_REPLACED_MIDDLEWARE.get(path, path)
        for path in settings.MIDDLEWARE
        if path not in AVATAR_SKIPPED_MIDDLEWARE
    ]
    for needed in (
        "django.middleware.security.SecurityMiddleware",
        "avatars.handler.AvatarCommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "avatars.outage.DatabaseOutageMiddleware",
    ):
        assert needed in kept
    assert "django.contrib.sessions.middleware.SessionMiddleware" not in kept


def test_a_middleware_added_later_runs_on_the_fast_path_too(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.avatars.test_handler.Stamp"]
    answer = call(AvatarFastPath(WSGIHandler()), f"/avatar/{UNKNOWN}")
    assert header(answer, "X-Stamp") == "1"


def test_a_path_that_resolves_only_with_a_slash_is_still_redirected(settings):
    # The fast path skips CommonMiddleware's second resolution only for a 404 of a view.
    settings.ROOT_URLCONF = "tests.avatars.test_handler"
    answer = same_answers("/avatar/a/b")
    assert answer[0] == "301 Moved Permanently"
    assert header(answer, "Location") == "/avatar/a/b/"
    assert same_answers(f"/avatar/{UNKNOWN}?d=404")[0] == "404 Not Found"


def slash_only(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse(b"slash")


# ROOT_URLCONF of the test above: the endpoint and a path below /avatar/ that needs the slash.
urlpatterns = [*avatar_urls.urlpatterns, url_path("avatar/a/b/", slash_only)]


class Stamp:
    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        response["X-Stamp"] = "1"
        return response
