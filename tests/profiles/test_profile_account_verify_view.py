"""Verify an account elsewhere: the server fetches its page through the SSRF-safe fetcher and
looks for a rel="me" link back. A result is stored with its time and shown; a page that cannot
be fetched (private, slow, huge, looping) says why and changes nothing."""

from __future__ import annotations

import html
import time

import pytest
from django.utils import timezone

from profiles.models import Profile, ProfileAccount

pytestmark = pytest.mark.django_db

SITE = "https://avatars.example.com"


@pytest.fixture
def alice_profile(personas, settings):
    settings.SITE_URL = SITE
    return Profile.objects.create(user=personas.alice, slug="alice", published=True)


def page(*links: str) -> bytes:
    anchors = "".join(f'<a rel="me" href="{href}">me</a>' for href in links)
    return f"<!doctype html><title>x</title><p>Hello {anchors}</p>".encode()


def serve_page(image_server, path, body, **headers):
    return image_server.serve(path, body, **{"Content-Type": "text/html; charset=utf-8", **headers})


def add_account(profile, url):
    return ProfileAccount.objects.create(profile=profile, service="website", url=url)


def verify(client, account):
    response = client.post(f"/account/profile/accounts/{account.pk}/verify/")
    assert response["Location"] == f"/account/profile/#account-{account.pk}"
    return html.unescape(client.get("/account/profile/").content.decode())


def test_a_page_linking_back_by_slug_verifies_the_account(
    alice_client, alice_profile, image_server, queued_purges
):
    account = add_account(alice_profile, serve_page(image_server, "/me", page(f"{SITE}/alice")))
    before = timezone.now()
    shown = verify(alice_client, account)
    account.refresh_from_db()
    assert account.is_verified and account.checked_at is not None
    assert account.verified_at is not None and account.verified_at >= before
    assert "links back to your profile" in shown and "✓ Verified" in shown
    assert "slug-alice" in queued_purges()


def test_a_link_back_by_hash_counts_too(alice_client, alice_profile, personas, image_server):
    url = f"{SITE}/{personas.alice_address.md5}"
    account = add_account(alice_profile, serve_page(image_server, "/me", page(url)))
    verify(alice_client, account)
    account.refresh_from_db()
    assert account.is_verified


def test_a_page_without_the_link_is_recorded_as_not_verified(
    alice_client, alice_profile, image_server
):
    account = add_account(
        alice_profile, serve_page(image_server, "/me", page("https://elsewhere.example/alice"))
    )
    account.verified_at = timezone.now()  # verified once; the link is gone now
    account.save()
    shown = verify(alice_client, account)
    account.refresh_from_db()
    assert not account.is_verified and account.checked_at is not None
    assert f'no rel="me" link to {SITE}/alice' in shown


def refused(client, account, message):
    before = ProfileAccount.objects.values().get(pk=account.pk)
    shown = verify(client, account)
    assert message in shown
    assert ProfileAccount.objects.values().get(pk=account.pk) == before


def test_a_private_address_is_refused_and_changes_nothing(alice_client, alice_profile, settings):
    settings.AVATAR_URL_FETCH_ALLOW_LOOPBACK = False
    for url in ("http://127.0.0.1/me", "http://10.0.0.1/me", "http://169.254.169.254/"):
        refused(alice_client, add_account(alice_profile, url), "private network")


def test_a_redirect_loop_is_refused(alice_client, alice_profile, image_server):
    image_server.serve("/loop", b"", status=302, Location="/loop")
    refused(alice_client, add_account(alice_profile, image_server.url("/loop")), "redirected more")


def test_a_redirect_into_the_private_network_is_refused(alice_client, alice_profile, image_server):
    image_server.serve("/hop", b"", status=302, Location="http://10.0.0.1/me")
    refused(alice_client, add_account(alice_profile, image_server.url("/hop")), "private network")


def test_a_huge_page_is_refused(alice_client, alice_profile, image_server):
    url = serve_page(image_server, "/huge", b"<p>" + b"x" * (1024 * 1024 + 1))
    refused(alice_client, add_account(alice_profile, url), "The page is larger than 1 MB.")


def test_a_slow_page_is_cut_off(alice_client, alice_profile, image_server, settings):
    settings.PROFILE_VERIFY_TIMEOUT = 0.5

    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.05)

    image_server.routes["/slow"] = drip
    started = time.monotonic()
    refused(alice_client, add_account(alice_profile, image_server.url("/slow")), "too long")
    assert time.monotonic() - started < 2


def test_something_other_than_html_is_refused(alice_client, alice_profile, image_server):
    url = image_server.serve("/img", b"\x89PNG....")
    refused(alice_client, add_account(alice_profile, url), "not a web page")


def test_someone_elses_account_is_not_found(bob_client, alice_profile):
    account = add_account(alice_profile, "https://github.com/alice")
    assert bob_client.post(f"/account/profile/accounts/{account.pk}/verify/").status_code == 404
