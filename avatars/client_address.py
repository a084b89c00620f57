"""The address a request really came from, for login throttling (django-axes).

Behind Varnish every request reaches the app from the proxy's address. The shipped VCL puts
the client's address in X-Forwarded-For (overwriting whatever the client sent); that header is
believed only when the request comes from one of TRUSTED_PROXIES, since anybody talking to the
app directly could send it. Walking the header from the right skips further trusted proxies
(a TLS terminator before Varnish) and stops at the first address nobody we trust vouches for.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR", ""))
    if not _trusted(remote):
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    address = remote
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            # Garbage in the header: the last address we could vouch for is all we know.
            return address
        address = hop
        if not _trusted(hop):
            return hop
    return address
