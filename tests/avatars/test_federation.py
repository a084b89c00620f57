"""avatars/federation.py: a domain's avatar SRV records, looked up in a real DNS server on
loopback (tests/dns_server.py), against SITE_URL."""

from __future__ import annotations

import time

import pytest

from avatars import federation
from avatars.federation import DomainLookupFailed, SrvTarget, domain_check

HERE = "https://avatars.example.net"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = HERE


def test_records_that_point_here_say_so(dns_server):
    dns_server.domains.add("example.org")
    dns_server.srv["_avatars-sec._tcp.example.org"] = ["0 0 443 Avatars.Example.NET."]
    dns_server.srv["_avatars._tcp.example.org"] = ["0 0 80 avatars.example.net."]

    check = domain_check(domain="example.org")

    assert check.served_here
    secure, plain = check.records
    assert (secure.name, secure.scheme, secure.points_here) == (
        "_avatars-sec._tcp.example.org",
        "https",
        True,
    )
    assert secure.found == (SrvTarget("avatars.example.net", 443),)
    assert (plain.name, plain.scheme, plain.points_here) == (
        "_avatars._tcp.example.org",
        "http",
        True,
    )


def test_records_that_point_elsewhere_show_what_would_point_here(dns_server):
    dns_server.domains.add("example.org")
    dns_server.srv["_avatars-sec._tcp.example.org"] = ["0 0 443 avatars.elsewhere.example."]

    check = domain_check(domain="example.org")

    secure, plain = check.records
    assert not check.served_here
    assert not secure.points_here and secure.found_records == (
        "_avatars-sec._tcp.example.org. SRV 0 0 443 avatars.elsewhere.example.",
    )
    assert (
        secure.expected_record == "_avatars-sec._tcp.example.org. SRV 0 0 443 avatars.example.net."
    )
    assert plain.found == () and not plain.points_here
    assert plain.expected_record == "_avatars._tcp.example.org. SRV 0 0 80 avatars.example.net."


def test_the_port_of_site_url_must_match(dns_server, settings):
    settings.SITE_URL = "https://avatars.example.net:8443"
    dns_server.domains.add("example.org")
    dns_server.srv["_avatars-sec._tcp.example.org"] = ["0 0 443 avatars.example.net."]

    [secure, _] = domain_check(domain="example.org").records

    assert not secure.points_here
    assert secure.expected == SrvTarget("avatars.example.net", 8443)


def test_clients_pick_from_the_lowest_priority(dns_server):
    dns_server.domains.add("example.org")
    dns_server.srv["_avatars-sec._tcp.example.org"] = [
        "10 0 443 avatars.example.net.",
        "20 0 443 backup.example.org.",
    ]
    assert domain_check(domain="example.org").served_here

    dns_server.srv["_avatars-sec._tcp.example.org"] = [
        "10 0 443 avatars.example.net.",
        "10 0 443 other.example.org.",
    ]
    assert not domain_check(domain="example.org").served_here


def test_over_plain_http_only_the_plain_record_can_point_here(dns_server, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    dns_server.domains.add("example.org")
    dns_server.srv["_avatars._tcp.example.org"] = ["0 0 8000 127.0.0.1."]

    check = domain_check(domain="example.org")

    secure, plain = check.records
    assert check.served_here and plain.points_here
    assert secure.expected is None and not secure.points_here


def test_a_domain_without_records_is_no_error(dns_server):
    dns_server.domains.add("example.org")

    check = domain_check(domain="example.org")

    assert not check.served_here
    assert [record.found for record in check.records] == [(), ()]
    assert "example.org SOA" in dns_server.queries


def test_a_domain_that_does_not_exist_says_so(dns_server):
    with pytest.raises(DomainLookupFailed, match=r"^nowhere\.example does not exist in DNS\.$"):
        domain_check(domain="nowhere.example")


def test_a_dns_server_that_never_answers_fails_within_the_timeout(dns_server):
    dns_server.domains.add("example.org")
    dns_server.silent.add("example.org")
    started = time.monotonic()

    with pytest.raises(DomainLookupFailed, match=r"DNS did not answer within 1 s"):
        domain_check(domain="example.org")

    assert time.monotonic() - started < 2


def test_a_failing_dns_server_is_named(dns_server):
    dns_server.domains.add("example.org")
    dns_server.failing.add("example.org")

    with pytest.raises(DomainLookupFailed, match="SERVFAIL"):
        domain_check(domain="example.org")


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
    ],
)
def test_the_resolver_address_is_an_ip_and_an_optional_port(value, address):
    assert federation.resolver_address(value) == address


@pytest.mark.parametrize("value", ["dns.example", "127.0.0.1:0", "127.0.0.1:x", "[::1]:99999"])
def test_anything_else_is_refused(value):
    with pytest.raises(ValueError):
        federation.resolver_address(value)


def test_names_are_lower_case_ascii():
    assert federation.domain_name("Bücher.Example.") == "xn--bcher-kva.example"
