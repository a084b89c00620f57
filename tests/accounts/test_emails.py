"""Every email kind has a subject, a text body and an HTML body, with absolute links."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts import emails
from avatars.services import address_add
from tests.accounts.conftest import html_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://avatars.example.com"
    settings.DEFAULT_FROM_EMAIL = "avatars@example.com"


def sent() -> mail.EmailMultiAlternatives:
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert isinstance(message, mail.EmailMultiAlternatives)
    assert message.from_email == "avatars@example.com"
    assert "\n" not in message.subject
    return message


def test_address_confirmation(personas):
    address = address_add(user=personas.alice, email="o'brien@example.com")
    emails.send_address_confirmation(address=address)
    message = sent()
    assert message.subject == "Confirm o'brien@example.com for your avatar"
    assert message.to == ["o'brien@example.com"]
    assert f"https://avatars.example.com/confirm/{address.pk}/" in message.body
    assert "o'brien@example.com is yours" in message.body  # text is not HTML-escaped
    assert "Opening the link also signs you in" not in message.body
    assert f"https://avatars.example.com/confirm/{address.pk}/" in html_of(message)
    assert "o&#x27;brien@example.com" in html_of(message)


def test_address_confirmation_of_the_sign_in_address_says_it_signs_in(personas):
    emails.send_address_confirmation(address=personas.bob_address)
    assert "Opening the link also signs you in" in sent().body


def test_magic_link(personas):
    emails.send_magic_link(user=personas.alice, to="alice@example.com")
    message = sent()
    assert message.subject == "Your sign-in link"
    assert "https://avatars.example.com/login/link/" in message.body
    assert "within 15 minutes" in message.body
    assert "https://avatars.example.com/login/link/" in html_of(message)


def test_signup_existing(personas):
    emails.send_signup_existing(user=personas.alice, to="alice@example.com")
    message = sent()
    assert message.subject == "You already have an avatar account"
    assert "https://avatars.example.com/login/link/" in message.body
    assert "https://avatars.example.com/password/reset/" in message.body
    assert "choose a new password" in html_of(message)


def test_password_reset(personas):
    emails.send_password_reset(user=personas.alice, url="https://avatars.example.com/x/")
    message = sent()
    assert message.subject == "Choose a new password"
    assert "https://avatars.example.com/x/" in message.body
    assert "https://avatars.example.com/x/" in html_of(message)
