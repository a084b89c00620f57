"""Every email kind has a subject, a text body and an HTML body, with absolute links; each is
sent after the commit (the callbacks run here as a commit would run them)."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts import emails
from tests.conftest import html_of

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


def test_magic_link(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        emails.send_magic_link(user=personas.alice, to="alice@example.com")
    message = sent()
    assert message.subject == "Your sign-in link"
    assert "https://avatars.example.com/login/link/" in message.body
    assert "within 15 minutes" in message.body
    assert "https://avatars.example.com/login/link/" in html_of(message)


def test_signup_existing(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        emails.send_signup_existing(user=personas.alice, to="alice@example.com")
    message = sent()
    assert message.subject == "You already have an avatar account"
    assert "https://avatars.example.com/login/link/" in message.body
    assert "https://avatars.example.com/password/reset/" in message.body
    assert "choose a new password" in html_of(message)


def test_password_reset(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        emails.send_password_reset(user=personas.alice, url="https://avatars.example.com/x/")
    message = sent()
    assert message.subject == "Choose a new password"
    assert "https://avatars.example.com/x/" in message.body
    assert "https://avatars.example.com/x/" in html_of(message)
