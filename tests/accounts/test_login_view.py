"""Logging in with a password, throttled by django-axes, and logging out."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import CommittingClient

pytestmark = pytest.mark.django_db


def log_in(client: Client, email: str, password: str):
    return client.post("/login/", {"username": email, "password": password})


def test_it_logs_in_with_the_sign_in_address_and_password(personas):
    client = CommittingClient()
    response = log_in(client, "Alice@Example.com", "alice-password-1")
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert client.get("/account/").context["user"] == personas.alice


def test_a_wrong_password_shows_an_error_that_names_no_account(personas):
    page = log_in(CommittingClient(), "alice@example.com", "wrong").content.decode()
    unknown = log_in(CommittingClient(), "nobody@example.com", "wrong").content.decode()
    assert "Please enter a correct email and password" in page
    assert "Please enter a correct email and password" in unknown


def test_repeated_failures_lock_the_address_even_with_the_right_password(personas, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = CommittingClient()
    for _ in range(3):
        log_in(client, "alice@example.com", "wrong")
    response = log_in(client, "alice@example.com", "alice-password-1")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_changing_the_case_of_the_address_does_not_escape_the_lock(personas, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = CommittingClient()
    log_in(client, "alice@example.com", "wrong")
    log_in(client, "ALICE@example.com", "wrong")
    assert log_in(client, "Alice@Example.COM", "alice-password-1").status_code == 429


def test_log_out_is_a_post_with_csrf(alice_client):
    assert alice_client.get("/logout/").status_code == 405
    response = alice_client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert alice_client.get("/account/").status_code == 302


def test_account_pages_need_a_signed_in_person():
    response = CommittingClient().get("/account/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/account/"
