"""The client address login throttling counts against (avatars/client_address.py):
X-Forwarded-For is believed only from TRUSTED_PROXIES."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from avatars.client_address import client_ip


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        # Straight from a client: whatever it claims is ignored.
        ("203.0.113.7", "198.51.100.1", ["127.0.0.1"], "203.0.113.7"),
        # From the proxy: the address it put in the header.
        ("127.0.0.1", "203.0.113.7", ["127.0.0.1"], "203.0.113.7"),
        # An appending proxy: the client's own claim on the left is not believed.
        ("127.0.0.1", "10.9.9.9, 203.0.113.7", ["127.0.0.1"], "203.0.113.7"),
        # Two trusted proxies (a TLS terminator, then Varnish), by network.
        ("10.0.0.5", "203.0.113.7, 10.0.0.9", ["10.0.0.0/24"], "203.0.113.7"),
        ("::1", "2001:db8::1", ["::1"], "2001:db8::1"),
        # The proxy sent nothing, or garbage: the proxy's own address is all we know.
        ("127.0.0.1", "", ["127.0.0.1"], "127.0.0.1"),
        ("127.0.0.1", "not-an-address", ["127.0.0.1"], "127.0.0.1"),
        # Nobody trusted: the header is never read.
        ("127.0.0.1", "203.0.113.7", [], "127.0.0.1"),
    ],
)
def test_the_header_counts_only_from_a_trusted_proxy(
    settings, remote, forwarded, trusted, expected
):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/login/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected
