"""Sign-up takes an address and emails a link; it never reveals whether an account exists."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from avatars.models import Address
from tests.conftest import CommittingClient, link_in, without_csrf_tokens

pytestmark = pytest.mark.django_db


def sign_up(email: str, client: Client | None = None):
    return (client or CommittingClient()).post("/signup/", {"email": email}, follow=True)


def test_it_creates_an_account_without_a_password_and_emails_a_confirmation_link():
    response = sign_up("New.Person@Example.com")
    user = User.objects.get(email="new.person@example.com")
    assert not user.has_usable_password()
    address = Address.objects.get(owner=user)
    assert address.email == "new.person@example.com" and not address.is_verified
    assert response.redirect_chain[-1][0] == "/email-sent/"
    assert "Check your email" in response.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert link_in(mail.outbox[0]).startswith(f"/confirm/{address.pk}/")


def test_opening_the_link_confirms_the_address_and_signs_in():
    sign_up("new@example.com")
    client = CommittingClient()
    link = link_in(mail.outbox[0])
    assert "Confirm new@example.com" in client.get(link).content.decode()
    response = client.post(link, follow=True)
    assert response.redirect_chain[-1][0] == "/account/"
    assert response.context["user"].email == "new@example.com"
    assert Address.objects.get(email="new@example.com").is_verified


def test_an_existing_account_gets_the_same_page_and_an_email_to_its_owner(personas):
    new = without_csrf_tokens(sign_up("fresh@example.com").content.decode())
    mail.outbox.clear()
    existing = without_csrf_tokens(sign_up("ALICE@example.com").content.decode())
    assert existing.replace("alice@example.com", "X") == new.replace("fresh@example.com", "X")
    assert User.objects.filter(email="alice@example.com").count() == 1
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "already has an account" in mail.outbox[0].body
    assert link_in(mail.outbox[0]).startswith("/login/link/")


def test_signing_up_again_before_confirming_resends_the_confirmation(personas):
    sign_up("bob@example.com")
    assert User.objects.filter(email="bob@example.com").count() == 1
    assert link_in(mail.outbox[0]).startswith(f"/confirm/{personas.bob_address.pk}/")


def test_an_address_confirmed_on_another_account_reaches_that_accounts_owner(personas):
    from avatars.services import address_add, address_confirm

    address_confirm(address=address_add(user=personas.charlie, email="shared@example.com"))
    sign_up("shared@example.com")
    assert not User.objects.filter(email="shared@example.com").exists()
    assert "already has an account" in mail.outbox[0].body


def test_a_disabled_account_gets_the_same_page_and_no_email(personas):
    personas.charlie.is_active = False
    personas.charlie.save()
    response = sign_up("charlie@example.com")
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_repeated_sign_ups_send_one_email_a_minute():
    sign_up("new@example.com")
    sign_up("new@example.com")
    assert len(mail.outbox) == 1


def test_it_refuses_a_malformed_address():
    response = CommittingClient().post("/signup/", {"email": "nope"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not User.objects.exists()


def test_it_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    assert client.post("/signup/", {"email": "new@example.com"}).status_code == 403
    page = client.get("/signup/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


def test_a_signed_in_person_goes_to_their_account(alice_client):
    response = alice_client.get("/signup/")
    assert response.status_code == 302 and response["Location"] == "/account/"
