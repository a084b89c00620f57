"""Password change, first password, and reset by email, through Django's views."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import User
from tests.conftest import CommittingClient, html_of, link_in, without_csrf_tokens

pytestmark = pytest.mark.django_db

NEW = "a-much-better-passphrase-42"


def test_it_changes_a_password_given_the_old_one(alice_client, personas):
    response = alice_client.post(
        "/password/change/",
        {"old_password": "alice-password-1", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302 and response["Location"] == "/password/change/done/"
    personas.alice.refresh_from_db()
    assert personas.alice.check_password(NEW)


def test_a_wrong_old_password_is_refused(alice_client, personas):
    response = alice_client.post(
        "/password/change/",
        {"old_password": "nope", "new_password1": NEW, "new_password2": NEW},
    )
    assert "Your old password was entered incorrectly" in response.content.decode()


def test_an_account_made_by_sign_up_sets_its_first_password_without_an_old_one(db):
    user = User.objects.create_user("linkonly@example.com")
    client = CommittingClient()
    client.force_login(user)
    page = client.get("/password/change/").content.decode()
    assert "Set a password" in page and "old_password" not in page
    client.post("/password/change/", {"new_password1": NEW, "new_password2": NEW})
    user.refresh_from_db()
    assert user.check_password(NEW)


def test_reset_emails_a_link_that_sets_a_new_password(personas, settings):
    settings.SITE_URL = "https://avatars.example.com"
    response = CommittingClient().post("/password/reset/", {"email": "Alice@example.com"})
    assert response["Location"] == "/password/reset/sent/"
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert "https://avatars.example.com/password/reset/" in message.body
    assert "https://avatars.example.com/password/reset/" in html_of(message)
    client = CommittingClient()
    form_page = client.get(link_in(message), follow=True)
    assert form_page.context["validlink"]
    client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    personas.alice.refresh_from_db()
    assert personas.alice.check_password(NEW)
    assert not CommittingClient().get(link_in(message), follow=True).context["validlink"]


def test_reset_reaches_accounts_that_never_had_a_password(db):
    User.objects.create_user("linkonly@example.com")
    CommittingClient().post("/password/reset/", {"email": "linkonly@example.com"})
    assert mail.outbox[0].to == ["linkonly@example.com"]


def test_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(personas):
    known = CommittingClient().post("/password/reset/", {"email": "alice@example.com"}, follow=True)
    unknown = CommittingClient().post(
        "/password/reset/", {"email": "nobody@example.com"}, follow=True
    )
    assert without_csrf_tokens(known.content.decode()) == without_csrf_tokens(
        unknown.content.decode()
    )
    assert len(mail.outbox) == 1
