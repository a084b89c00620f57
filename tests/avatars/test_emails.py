"""The address confirmation email: subject, text and HTML bodies, absolute links."""

from __future__ import annotations

import pytest

from avatars import emails
from avatars.services import address_add
from tests.conftest import html_of, sent_email

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("email_site")]


def test_address_confirmation(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        address = address_add(user=personas.alice, email="o'brien@example.com")
    message = sent_email()
    assert message.subject == "Confirm o'brien@example.com for your avatar"
    assert message.to == ["o'brien@example.com"]
    assert f"https://avatars.example.com/confirm/{address.pk}/" in message.body
    assert "o'brien@example.com is yours" in message.body  # text is not HTML-escaped
    assert "Opening the link also signs you in" not in message.body
    assert f"https://avatars.example.com/confirm/{address.pk}/" in html_of(message)
    assert "o&#x27;brien@example.com" in html_of(message)


def test_address_confirmation_of_the_sign_in_address_says_it_signs_in(
    personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        emails.send_address_confirmation(address=personas.bob_address)
    assert "Opening the link also signs you in" in sent_email().body
