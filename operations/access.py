"""Who may read `/metrics`: configured client addresses, or the holder of the bearer token."""

from __future__ import annotations

import hmac
import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

from avatars.client_address import Network, client_ip


@cache
def _networks(allowed: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in allowed)


def _token_matches(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    # Constant time: the comparison must not tell a guesser how much of the token was right.
    return hmac.compare_digest(presented.strip().encode(), token.encode())


def metrics_access_allowed(request: HttpRequest) -> bool:
    if _token_matches(request):
        return True
    try:
        # Through Varnish, the client it vouches for (X-Forwarded-For from TRUSTED_PROXIES),
        # so the edge does not make every visitor look like loopback.
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(
        address in network for network in _networks(tuple(settings.METRICS_ALLOWED_ADDRESSES))
    )
