"""Addresses: add, confirm by emailed link, resend, remove, make primary."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core import mail

from avatars.models import Address
from avatars.services import address_add, address_confirm
from avatars.tokens import ADDRESS_CONFIRMATION_LIFETIME, AddressConfirmationTokenGenerator
from tests.conftest import CommittingClient, link_in

pytestmark = pytest.mark.django_db


def test_adding_an_address_emails_it_a_confirmation_link(alice_client, personas):
    response = alice_client.post("/account/addresses/add/", {"email": "Work@Example.com"})
    assert response.status_code == 302
    address = Address.objects.get(owner=personas.alice, email="work@example.com")
    assert not address.is_verified
    assert mail.outbox[0].to == ["work@example.com"]
    assert link_in(mail.outbox[0]).startswith(f"/confirm/{address.pk}/")
    page = alice_client.get("/account/").content.decode()
    assert "We sent a confirmation link to work@example.com." in page
    assert "not confirmed: no image is shown" in page


def test_an_address_confirmed_by_another_account_cannot_be_claimed(alice_client, personas):
    address_confirm(address=address_add(user=personas.charlie, email="taken@example.com"))
    response = alice_client.post("/account/addresses/add/", {"email": "taken@example.com"})
    assert "already confirmed by another account" in response.content.decode()
    assert not Address.objects.filter(owner=personas.alice, email="taken@example.com").exists()
    assert mail.outbox == []


def test_a_malformed_address_is_refused(alice_client):
    response = alice_client.post("/account/addresses/add/", {"email": "nope"})
    assert "Enter a valid email address." in response.content.decode()


def test_the_link_confirms_the_address_once(alice_client, personas, queued_purges):
    alice_client.post("/account/addresses/add/", {"email": "work@example.com"})
    link = link_in(mail.outbox[0])
    alice_client.post(link)
    address = Address.objects.get(email="work@example.com")
    assert address.is_verified and not address.is_primary
    assert {address.md5, address.sha256} <= queued_purges()
    again = alice_client.post(link)
    assert again.status_code == 400 and "no longer works" in again.content.decode()


def test_confirming_a_second_address_signs_nobody_in(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        address = address_add(user=personas.alice, email="work@example.com")
    client = CommittingClient()
    response = client.post(link_in(mail.outbox[0]))
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session
    address.refresh_from_db()
    assert address.is_verified


def test_when_someone_else_confirmed_first_the_link_says_so(alice_client, personas):
    alice_client.post("/account/addresses/add/", {"email": "race@example.com"})
    link = link_in(mail.outbox[0])
    address_confirm(address=address_add(user=personas.charlie, email="race@example.com"))
    response = alice_client.post(link, follow=True)
    assert "was confirmed by another account first" in response.content.decode()
    assert not Address.objects.get(owner=personas.alice, email="race@example.com").is_verified


def test_an_expired_confirmation_link_is_refused(alice_client, monkeypatch):
    alice_client.post("/account/addresses/add/", {"email": "work@example.com"})
    link = link_in(mail.outbox[0])
    later = datetime.now() + ADDRESS_CONFIRMATION_LIFETIME + timedelta(minutes=1)  # noqa: DTZ005
    monkeypatch.setattr(AddressConfirmationTokenGenerator, "_now", lambda self: later)
    assert alice_client.post(link).status_code == 400


def test_resend_sends_a_new_link_but_not_twice_a_minute(bob_client, personas):
    url = f"/account/addresses/{personas.bob_address.pk}/resend/"
    bob_client.post(url)
    bob_client.post(url)
    assert len(mail.outbox) == 1
    assert "less than a minute ago" in bob_client.get("/account/").content.decode()


def test_removing_an_address_hands_primary_on_and_purges(alice_client, personas, queued_purges):
    work = address_confirm(address=address_add(user=personas.alice, email="work@example.com"))
    alice_client.post(f"/account/addresses/{personas.alice_address.pk}/remove/")
    assert not Address.objects.filter(pk=personas.alice_address.pk).exists()
    work.refresh_from_db()
    assert work.is_primary
    assert personas.alice_address.sha256 in queued_purges()


def test_make_primary_needs_a_confirmed_address(alice_client, personas):
    work = address_confirm(address=address_add(user=personas.alice, email="work@example.com"))
    pending = address_add(user=personas.alice, email="later@example.com")
    alice_client.post(f"/account/addresses/{work.pk}/primary/")
    work.refresh_from_db()
    personas.alice_address.refresh_from_db()
    assert work.is_primary and not personas.alice_address.is_primary
    response = alice_client.post(f"/account/addresses/{pending.pk}/primary/", follow=True)
    assert "is not confirmed yet" in response.content.decode()


def test_nobody_can_act_on_someone_elses_address(alice_client, personas):
    pk = personas.bob_address.pk
    for action in ("resend", "remove", "primary"):
        assert alice_client.post(f"/account/addresses/{pk}/{action}/").status_code == 404
    assert alice_client.get(f"/account/addresses/{pk}/remove/").status_code == 405
    assert Address.objects.filter(pk=pk).exists()


def test_the_dashboard_lists_addresses_and_the_library(alice_client, personas):
    page = alice_client.get("/account/").content.decode()
    assert "alice@example.com" in page and "primary" in page
    assert f"/account/avatars/{personas.alice_avatar.pk}/preview/" in page
