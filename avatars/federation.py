"""Serving a whole domain, as Libravatar federates: a domain names its avatar server in two DNS
SRV records, and a client that finds them asks that server instead of the central one.

    _avatars-sec._tcp.example.com. SRV 0 0 443 avatars.example.com.   (pages served over https)
    _avatars._tcp.example.com.     SRV 0 0 80  avatars.example.com.   (pages served over http)

`domain_check` looks both up (dnspython, within DNS_TIMEOUT seconds for the whole check, at
DNS_RESOLVER or the system's resolver) and says whether they point at this service's
SITE_URL. No database, no cache: every check asks DNS again.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
from django.conf import settings
from django.utils.translation import gettext as _

SECURE_SERVICE = "_avatars-sec._tcp"
PLAIN_SERVICE = "_avatars._tcp"
DEFAULT_PORTS = {"https": 443, "http": 80}
DNS_PORT = 53


class DomainLookupFailed(Exception):
    """DNS could not say (the domain does not exist, or no server answered in time); the
    message is for the person who asked."""


@dataclass(frozen=True)
class SrvTarget:
    host: str
    port: int
    priority: int = 0
    weight: int = 0

    def record(self, name: str) -> str:
        """The record as a zone file writes it."""
        return f"{name}. SRV {self.priority} {self.weight} {self.port} {self.host}."


@dataclass(frozen=True)
class RecordCheck:
    """One of the two records: what it should be to point here, and what DNS has."""

    name: str
    scheme: str
    # None: this service has no address for this scheme (SITE_URL is http, the record https).
    expected: SrvTarget | None
    found: tuple[SrvTarget, ...]

    @property
    def chosen(self) -> tuple[SrvTarget, ...]:
        """The records a client picks from: those of the lowest priority (RFC 2782)."""
        if not self.found:
            return ()
        lowest = min(target.priority for target in self.found)
        return tuple(target for target in self.found if target.priority == lowest)

    @property
    def points_here(self) -> bool:
        expected = self.expected
        return (
            expected is not None
            and bool(self.chosen)
            and all((t.host, t.port) == (expected.host, expected.port) for t in self.chosen)
        )

    @property
    def expected_record(self) -> str:
        return self.expected.record(self.name) if self.expected else ""

    @property
    def found_records(self) -> tuple[str, ...]:
        return tuple(target.record(self.name) for target in self.found)


@dataclass(frozen=True)
class DomainCheck:
    domain: str
    site_scheme: str
    records: tuple[RecordCheck, ...]

    @property
    def served_here(self) -> bool:
        """Clients embedding over SITE_URL's scheme are sent here."""
        return any(r.points_here for r in self.records if r.scheme == self.site_scheme)


def site_address() -> tuple[str, str, int]:
    """(scheme, host, port) of SITE_URL: where the records should point."""
    parts = urlsplit(settings.SITE_URL)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 80)


def expected_targets() -> dict[str, SrvTarget | None]:
    """For each record, the target that sends clients here. Over https, plain-http pages are
    sent to port 80 of the same host, which redirects to https."""
    scheme, host, port = site_address()
    if scheme == "https":
        return {
            SECURE_SERVICE: SrvTarget(host, port),
            PLAIN_SERVICE: SrvTarget(host, DEFAULT_PORTS["http"]),
        }
    return {SECURE_SERVICE: None, PLAIN_SERVICE: SrvTarget(host, port)}


def resolver_address(value: str) -> tuple[str, int]:
    """DNS_RESOLVER's "ip", "ip:port" or "[ipv6]:port"; ValueError when it is none of them."""
    text = value.strip()
    if text.startswith("["):
        address, _sep, rest = text[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") else (rest or str(DNS_PORT))
    elif text.count(":") == 1:
        address, port = text.split(":")
    else:
        address, port = text, str(DNS_PORT)
    ipaddress.ip_address(address)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{port!r} is not a port")
    return address, int(port)


def _resolver() -> dns.resolver.Resolver:
    if not settings.DNS_RESOLVER:
        return dns.resolver.Resolver()
    address, port = resolver_address(settings.DNS_RESOLVER)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [address]
    resolver.port = port
    return resolver


def domain_check(*, domain: str) -> DomainCheck:
    """Both records of `domain` (an IDNA-ready name such as example.com), against SITE_URL.

    Raises DomainLookupFailed when the domain does not exist or DNS does not answer within
    DNS_TIMEOUT seconds in all.
    """
    resolver = _resolver()
    deadline = time.monotonic() + settings.DNS_TIMEOUT
    site_scheme = site_address()[0]
    records = []
    for service, expected in expected_targets().items():
        name = f"{service}.{domain}"
        records.append(
            RecordCheck(
                name=name,
                scheme="https" if service == SECURE_SERVICE else "http",
                expected=expected,
                found=_srv_targets(resolver, name, deadline),
            )
        )
    if not any(record.found for record in records):
        # A missing SRV name is NXDOMAIN whether or not the domain exists; ask about it.
        _domain_exists(resolver, domain, deadline)
    return DomainCheck(domain=domain, site_scheme=site_scheme, records=tuple(records))


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DomainLookupFailed(_timed_out())
    return left


def _timed_out() -> str:
    return _("DNS did not answer within %(seconds)d s. Try again in a moment.") % {
        "seconds": settings.DNS_TIMEOUT
    }


def _srv_targets(
    resolver: dns.resolver.Resolver, name: str, deadline: float
) -> tuple[SrvTarget, ...]:
    try:
        answer = resolver.resolve(
            name, dns.rdatatype.SRV, search=False, lifetime=_remaining(deadline)
        )
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return ()
    except dns.exception.Timeout:
        raise DomainLookupFailed(_timed_out()) from None
    except dns.resolver.NoNameservers:
        raise DomainLookupFailed(
            _("The DNS servers failed to answer for this domain (SERVFAIL). Try again later.")
        ) from None
    return tuple(
        SrvTarget(
            host=record.target.to_text(omit_final_dot=True).lower(),
            port=int(record.port),
            priority=int(record.priority),
            weight=int(record.weight),
        )
        for record in answer
    )


def _domain_exists(resolver: dns.resolver.Resolver, domain: str, deadline: float) -> None:
    try:
        resolver.resolve(domain, dns.rdatatype.SOA, search=False, lifetime=_remaining(deadline))
    except dns.resolver.NoAnswer:
        return
    except dns.resolver.NXDOMAIN:
        raise DomainLookupFailed(
            _("%(domain)s does not exist in DNS.") % {"domain": domain}
        ) from None
    except dns.exception.Timeout:
        raise DomainLookupFailed(_timed_out()) from None
    except dns.resolver.NoNameservers:
        raise DomainLookupFailed(
            _("The DNS servers failed to answer for this domain (SERVFAIL). Try again later.")
        ) from None


def domain_name(text: str) -> str:
    """The DNS name of a domain as typed (any case, a trailing dot, non-ASCII letters), ASCII
    and lower-cased; ValueError when it cannot be one."""
    try:
        return dns.name.from_text(text.strip().rstrip(".")).to_text(omit_final_dot=True).lower()
    except (dns.exception.DNSException, UnicodeError) as error:
        raise ValueError(str(error)) from None
