"""Signing in by an emailed one-time link."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core import mail

from accounts.tokens import MAGIC_LINK_LIFETIME, MagicLinkTokenGenerator
from avatars.services import address_add, address_confirm
from tests.conftest import CommittingClient, html_of, link_in, without_csrf_tokens

pytestmark = pytest.mark.django_db


def ask_for_link(email: str):
    return CommittingClient().post("/login/link/", {"email": email}, follow=True)


def test_it_emails_a_link_that_signs_in_once(personas):
    ask_for_link("alice@example.com")
    link = link_in(mail.outbox[0])
    assert link in html_of(mail.outbox[0])
    client = CommittingClient()
    assert "Sign in as alice@example.com?" in client.get(link).content.decode()
    assert "_auth_user_id" not in client.session  # opening the link alone signs nobody in
    response = client.post(link, follow=True)
    assert response.context["user"] == personas.alice
    again = CommittingClient().post(link)
    assert again.status_code == 400
    assert "no longer works" in again.content.decode()


def test_any_confirmed_address_of_the_account_can_ask(personas):
    address_confirm(address=address_add(user=personas.alice, email="work@example.com"))
    ask_for_link("work@example.com")
    assert mail.outbox[0].to == ["work@example.com"]
    response = CommittingClient().post(link_in(mail.outbox[0]), follow=True)
    assert response.context["user"] == personas.alice


def test_an_unknown_address_sees_the_same_page_and_nothing_is_sent(personas):
    known = without_csrf_tokens(ask_for_link("alice@example.com").content.decode())
    unknown = without_csrf_tokens(ask_for_link("nobody@example.com").content.decode())
    assert known.replace("alice@example.com", "X") == unknown.replace("nobody@example.com", "X")
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]


def test_a_disabled_account_gets_no_link(personas):
    personas.alice.is_active = False
    personas.alice.save()
    ask_for_link("alice@example.com")
    assert mail.outbox == []


def test_an_expired_link_is_refused(personas, monkeypatch):
    ask_for_link("alice@example.com")
    link = link_in(mail.outbox[0])
    # Django's generators read the clock through _now() so that tests can move it.
    later = datetime.now() + MAGIC_LINK_LIFETIME + timedelta(seconds=5)  # noqa: DTZ005
    monkeypatch.setattr(MagicLinkTokenGenerator, "_now", lambda self: later)
    assert CommittingClient().post(link).status_code == 400


def test_a_tampered_link_is_refused(personas):
    ask_for_link("alice@example.com")
    link = link_in(mail.outbox[0])
    assert CommittingClient().post(link[:-3] + "abc/").status_code == 400
    assert CommittingClient().post("/login/link/zzz/1-abc/").status_code == 400
