"""Fetch what a person named by URL (an image to upload, a page to check for a link back),
without letting them aim the server at its own network (server-side request forgery).

The defences, each needed: http and https only, on their default ports; the host name is
resolved here and every address it resolves to must be public (no private, loopback,
link-local, multicast, reserved or unspecified ranges), and the connection goes to the address
that was checked, so a second DNS answer cannot swap it (DNS rebinding); every redirect is
checked the same way; the body and the whole exchange are capped in size and time.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.utils.translation import gettext as _

from avatars.imaging.decode import megabytes

DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 3
CHUNK = 64 * 1024
USER_AGENT = "gravatar-selfhosted-fetcher/1 (+avatar upload from a URL, profile link check)"
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})


# An upload refused because its URL could not be fetched, in avatars_uploads_refused_total
# beside decode.REFUSAL_REASONS.
REFUSAL_REASON = "fetch"


class FetchRefused(ValueError):
    """The URL cannot be fetched; the message is written for the person who typed it."""


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    timeout: float
    # Tests only: the local test server lives on 127.0.0.1 (see AVATAR_URL_FETCH_ALLOW_LOOPBACK).
    allow_loopback: bool = False
    accept: str = "image/*"
    # What the person asked for, in the messages: "The image is larger than 10 MB."
    kind: str = "image"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    ip: str


def fetch(url: str, policy: FetchPolicy) -> bytes:
    """The body of a 200 answer for the URL, following at most MAX_REDIRECTS checked redirects."""
    return _fetch(url, policy)[0]


def fetch_page(url: str, policy: FetchPolicy) -> str:
    """The text of an HTML page (decoded with its declared charset, else UTF-8), with every
    limit of `fetch`; anything but HTML is refused."""
    body, content_type = _fetch(url, policy)
    media_type, _sep, parameters = content_type.partition(";")
    if media_type.strip().lower() not in PAGE_TYPES:
        raise FetchRefused(_("That address is not a web page (it did not answer with HTML)."))
    charset = "utf-8"
    for parameter in parameters.split(";"):
        name, _sep, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _fetch(url: str, policy: FetchPolicy) -> tuple[bytes, str]:
    deadline = time.monotonic() + policy.timeout
    for _attempt in range(MAX_REDIRECTS + 1):
        target = vet_url(url, policy)
        location, body, content_type = _request(target, policy, deadline)
        if location is None:
            return body, content_type
        url = urljoin(url, location)
    raise FetchRefused(
        _("The address redirected more than %(count)d times.") % {"count": MAX_REDIRECTS}
    )


def vet_url(url: str, policy: FetchPolicy) -> Target:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise FetchRefused(_("That is not a valid web address.")) from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise FetchRefused(_("Only http:// and https:// addresses can be fetched."))
    if parts.username is not None or parts.password is not None:
        raise FetchRefused(_("Addresses with a user name or password cannot be fetched."))
    if not parts.hostname:
        raise FetchRefused(_("That address names no host."))
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise FetchRefused(_("That address's host name is not valid.")) from None
    port = port or DEFAULT_PORTS[scheme]
    ip = _resolve_public(host, port, policy)
    if port != DEFAULT_PORTS[scheme] and not (policy.allow_loopback and _is_loopback(ip)):
        raise FetchRefused(_("Only the standard web ports (80 and 443) can be fetched."))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path, ip=ip)


def is_public_address(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    refused = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )
    return address.is_global and not refused


def _is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def _resolve_public(host: str, port: int, policy: FetchPolicy) -> str:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchRefused(_("The host %(host)s could not be found.") % {"host": host}) from None
    ips = [str(answer[4][0]) for answer in answers]
    # Every answer must be acceptable: a name that also resolves inward is refused outright.
    for ip in ips:
        if not (is_public_address(ip) or (policy.allow_loopback and _is_loopback(ip))):
            raise FetchRefused(
                _(
                    "That address points into a private network; only public web sites can be "
                    "fetched."
                )
            )
    if not ips:
        raise FetchRefused(_("The host %(host)s could not be found.") % {"host": host})
    return ips[0]


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        # The host name stays the TLS server name and the Host header; only the socket is
        # pinned to the vetted address.
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def connect_to_vetted_ip(
        address: tuple[str, int], timeout: float = timeout, source: object = None
    ) -> socket.socket:
        return socket.create_connection((target.ip, target.port), timeout)

    connection._create_connection = connect_to_vetted_ip  # type: ignore[attr-defined]
    return connection


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchRefused(_("The web site took too long to answer."))
    return left


def _request(target: Target, policy: FetchPolicy, deadline: float) -> tuple[str | None, bytes, str]:
    """(Location, b"", "") for a redirect, (None, body, content type) for a 200; anything else
    is refused."""
    connection = _connection(target, _remaining(deadline))
    try:
        connection.request(
            "GET", target.path, headers={"User-Agent": USER_AGENT, "Accept": policy.accept}
        )
        response = connection.getresponse()
        if response.status in REDIRECT_STATUSES:
            location = response.getheader("Location")
            if not location:
                raise FetchRefused(_("The web site redirected without saying where to."))
            return location, b"", ""
        if response.status != 200:
            raise FetchRefused(
                _("The web site answered %(status)s %(reason)s.")
                % {"status": response.status, "reason": response.reason}
            )
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > policy.max_bytes:
            raise _too_large(policy)
        body = _read_capped(connection, response, policy, deadline)
        return None, body, response.getheader("Content-Type") or ""
    except TimeoutError:
        raise FetchRefused(_("The web site took too long to answer.")) from None
    except http.client.HTTPException:
        raise FetchRefused(_("The web site's answer was not valid HTTP.")) from None
    except OSError as error:
        reason = error.strerror or str(error)
        if policy.kind == "image":
            raise FetchRefused(
                _("Could not fetch the image: %(reason)s.") % {"reason": reason}
            ) from None
        raise FetchRefused(
            _("Could not fetch the page: %(reason)s.") % {"reason": reason}
        ) from None
    finally:
        connection.close()


def _read_capped(
    connection: http.client.HTTPConnection,
    response: http.client.HTTPResponse,
    policy: FetchPolicy,
    deadline: float,
) -> bytes:
    body = bytearray()
    while True:
        # A server that drips one byte at a time would never trip a per-read timeout.
        if connection.sock is not None:
            connection.sock.settimeout(_remaining(deadline))
        chunk = response.read1(CHUNK)
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > policy.max_bytes:
            raise _too_large(policy)
        _remaining(deadline)


def _too_large(policy: FetchPolicy) -> FetchRefused:
    limit = megabytes(policy.max_bytes, 0)
    if policy.kind == "image":
        return FetchRefused(_("The image is larger than %(limit)s MB.") % {"limit": limit})
    return FetchRefused(_("The page is larger than %(limit)s MB.") % {"limit": limit})
