"""Login throttling behind the shipped Varnish counts per client, not per proxy: the VCL puts
the client's address in X-Forwarded-For (whatever the client sent), and the app believes it
only from TRUSTED_PROXIES.

Two clients are two source addresses on loopback (127.0.0.2 and 127.0.0.3), each talking to
Varnish as a browser would: the login form, its CSRF cookie and token, then the POST.
"""

from __future__ import annotations

import http.client
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest

from tests.personas import make_personas
from tests.varnish.conftest import Edge

pytestmark = pytest.mark.varnish

CLIENT_A, CLIENT_B = "127.0.0.2", "127.0.0.3"


class Browser:
    def __init__(self, edge: Edge, source: str) -> None:
        parts = urlsplit(edge.varnish.url)
        self.address = (parts.hostname or "", parts.port or 80)
        self.source = source
        self.cookies: dict[str, str] = {}

    def send(
        self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        connection = http.client.HTTPConnection(
            *self.address, timeout=10, source_address=(self.source, 0)
        )
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body or None, headers=sent)
            response = connection.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, text
        finally:
            connection.close()

    def log_in(self, email: str, password: str, *, claiming: str | None = None) -> int:
        """POST the login form; `claiming` is an X-Forwarded-For the client makes up."""
        status, page = self.send("GET", "/login/")
        assert status == 200, page[:300]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if claiming:
            headers["X-Forwarded-For"] = claiming
        form = {"username": email, "password": password, "csrfmiddlewaretoken": token.group(1)}
        status, _ = self.send("POST", "/login/", urlencode(form), headers)
        return status


@pytest.mark.parametrize(
    "trusted",
    [
        ["127.0.0.1", "::1"],  # the default: make run's Varnish
        # Even when the clients' own network is trusted, a client cannot pass for another.
        ["127.0.0.0/8"],
    ],
)
def test_wrong_passwords_lock_the_client_that_sent_them_not_everyone(
    fresh_edge: Edge, settings, trusted
):
    settings.TRUSTED_PROXIES = trusted
    make_personas()
    attacker, alice = Browser(fresh_edge, CLIENT_A), Browser(fresh_edge, CLIENT_B)

    failures = [
        attacker.log_in("alice@example.com", "wrong", claiming=CLIENT_B)
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    locked = attacker.log_in("alice@example.com", "alice-password-1")
    signed_in = alice.log_in("alice@example.com", "alice-password-1")

    # The last failure allowed already answers with the lock.
    assert failures == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert locked == 429
    assert signed_in == 302
