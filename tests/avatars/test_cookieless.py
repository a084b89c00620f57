"""The avatar endpoint never reads or sets cookies: a cookie a browser sends for the site
(a stale or malformed `csrftoken` or `sessionid`) must not turn a `public, s-maxage` image
into a response that sets a cookie or varies on one, with or without Varnish in front."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_caches")]

MALFORMED = {
    "csrftoken": "short",
    "sessionid": "not-a-session-key!",
}
AVATAR_PATHS = ["/avatar/", "/avatar/0123456789abcdef0123456789abcdef?s=40&d=identicon"]


def vary_tokens(value: str | None) -> set[str]:
    return {token.strip().lower() for token in (value or "").split(",") if token.strip()}


@pytest.mark.parametrize("path", AVATAR_PATHS)
@pytest.mark.parametrize("cookie", sorted(MALFORMED))
def test_a_malformed_cookie_sets_nothing_through_the_app(path, cookie):
    client = Client()
    client.cookies[cookie] = MALFORMED[cookie]
    response = client.get(path)
    assert response.status_code == 200
    assert "s-maxage" in response["Cache-Control"]
    assert not response.cookies
    assert "Set-Cookie" not in response.headers
    assert "cookie" not in vary_tokens(response.headers.get("Vary"))


def test_a_signed_in_persons_session_is_not_touched_by_the_endpoint(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_user("someone@example.com"))
    response = client.get("/avatar/0123456789abcdef0123456789abcdef")
    assert not response.cookies
    assert "cookie" not in vary_tokens(response.headers.get("Vary"))


def test_other_pages_still_get_their_cookies():
    client = Client()
    client.cookies["csrftoken"] = MALFORMED["csrftoken"]
    response = client.get("/signup/")
    assert "csrftoken" in response.cookies  # the site's pages renew a malformed token


@pytest.mark.parametrize("cookie", sorted(MALFORMED))
def test_a_real_request_with_malformed_cookies_gets_no_cookie(live_server, cookie):
    parts = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(
            "GET",
            "/avatar/0123456789abcdef0123456789abcdef?d=retro",
            headers={"Cookie": f"{cookie}={MALFORMED[cookie]}"},
        )
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 200
    assert "s-maxage" in (response.getheader("Cache-Control") or "")
    assert response.getheader("Set-Cookie") is None
    assert "cookie" not in vary_tokens(response.getheader("Vary"))


def test_the_guard_strips_what_a_view_would_add(rf):
    from django.http import HttpResponse

    from avatars.middleware import CookielessAvatarMiddleware

    def careless_view(request):
        response = HttpResponse(b"x")
        response.set_cookie("tracker", "1")
        response.headers["Vary"] = "Accept, Cookie"
        return response

    request = rf.get("/avatar/abc", HTTP_COOKIE="sessionid=x")
    response = CookielessAvatarMiddleware(careless_view)(request)
    assert not response.cookies and request.COOKIES == {}
    assert response.headers["Vary"] == "Accept"
