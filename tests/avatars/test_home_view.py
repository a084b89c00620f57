"""The home page explains the service and checks an address: hashes, URLs and a preview."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import CommittingClient

pytestmark = pytest.mark.django_db


def test_it_explains_the_service_and_offers_sign_up():
    response = CommittingClient().get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Check an address" in page
    assert 'href="/signup/"' in page
    assert 'name="viewport"' in page  # laid out for phones


def test_it_shows_both_hashes_and_the_avatar_urls_for_an_address(settings):
    settings.SITE_URL = "https://avatars.example.com"
    page = CommittingClient().get("/", {"email": "  Alice@Example.com "}).content.decode()
    md5 = hashlib.md5(b"alice@example.com", usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(b"alice@example.com").hexdigest()
    assert md5 in page and sha256 in page
    assert f"https://avatars.example.com/avatar/{sha256}" in page
    assert f"https://avatars.example.com/avatar/{md5}" in page
    assert f'src="/avatar/{sha256}?s=160&amp;d=identicon"' in page  # the live preview


def test_it_says_what_is_wrong_with_a_malformed_address():
    page = CommittingClient().get("/", {"email": "not an address"}).content.decode()
    assert "Enter a valid email address." in page
    assert "data-check-result hidden" in page


def test_it_loads_the_script_that_hashes_in_the_browser():
    page = CommittingClient().get("/").content.decode()
    assert "js/check.js" in page
    assert "data-check" in page
