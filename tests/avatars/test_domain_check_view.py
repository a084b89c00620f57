"""/domain/: the home page's domain check says whether a domain's avatar SRV records point
here, and what to publish when they do not. Against a real DNS server on loopback."""

from __future__ import annotations

import pytest

from tests.conftest import CommittingClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://avatars.example.net"


def page(**query: str) -> str:
    response = CommittingClient().get("/domain/", query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_home_page_offers_the_domain_check_beside_the_address_check():
    home = CommittingClient().get("/").content.decode()
    assert "Check an address" in home and "Serve a whole domain" in home
    assert 'action="/domain/#domain"' in home
    assert "data-domain-result" not in home


def test_a_domain_that_points_here_is_told_so(dns_server):
    dns_server.domains.add("example.org")
    dns_server.srv["_avatars-sec._tcp.example.org"] = ["0 0 443 avatars.example.net."]
    dns_server.srv["_avatars._tcp.example.org"] = ["0 0 80 avatars.example.net."]

    shown = page(domain="Example.ORG")

    assert "example.org points here:" in shown
    assert shown.count("it points here.") == 2
    assert "To point here" not in shown


def test_a_domain_that_points_elsewhere_is_shown_the_records_to_publish(dns_server):
    dns_server.domains.add("example.org")
    dns_server.srv["_avatars-sec._tcp.example.org"] = ["0 0 443 avatars.elsewhere.example."]

    shown = page(domain="example.org")

    assert "example.org does not point here." in shown
    assert (
        "<code>_avatars-sec._tcp.example.org. SRV 0 0 443 avatars.elsewhere.example.</code>"
        in shown
    )
    assert "it points elsewhere." in shown
    assert "<code>_avatars-sec._tcp.example.org. SRV 0 0 443 avatars.example.net.</code>" in shown
    assert "<code>_avatars._tcp.example.org. SRV 0 0 80 avatars.example.net.</code>" in shown
    assert "DNS has no such record." in shown


def test_an_address_stands_for_its_domain(dns_server):
    dns_server.domains.add("example.org")
    dns_server.srv["_avatars-sec._tcp.example.org"] = ["0 0 443 avatars.example.net."]

    assert "example.org points here:" in page(domain="alice@example.org")


@pytest.mark.parametrize("typed", ["not a domain", "localhost", "-bad-.example", "a..b"])
def test_what_is_not_a_domain_is_told_so_without_asking_dns(dns_server, typed):
    shown = page(domain=typed)

    assert "Enter a domain name, such as example.com." in shown
    assert "data-domain-result" not in shown
    assert dns_server.queries == []


def test_a_domain_that_does_not_exist_is_told_so(dns_server):
    shown = page(domain="nowhere.example")

    assert "nowhere.example does not exist in DNS." in shown
    assert "data-domain-result" not in shown


def test_a_dns_timeout_is_told_so(dns_server):
    dns_server.domains.add("example.org")
    dns_server.silent.add("example.org")

    shown = page(domain="example.org")

    assert "DNS did not answer within 1 s. Try again in a moment." in shown
