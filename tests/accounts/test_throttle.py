"""The email cooldown holds across workers, nodes and connections, and needs no cache: it is a
row in the database, so a second worker with its own in-process cache, ten requests at once
and a Redis that is down all give the same answer."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from accounts.models import EmailCooldown, User
from accounts.throttle import allow_email
from tests.conftest import CommittingClient


def another_workers_cache(settings) -> None:
    """What a second gunicorn worker (or node) has without Redis: a cache of its own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": uuid.uuid4().hex,
        }
    }


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.django_db
def test_a_second_worker_with_its_own_cache_is_held_back_too(settings):
    assert allow_email("magic", "alice@example.com")
    another_workers_cache(settings)

    assert not allow_email("magic", "Alice@Example.com ")
    assert allow_email("signup", "alice@example.com")  # each kind has its own window


@pytest.mark.django_db
def test_the_window_reopens_after_a_minute_and_old_rows_go(settings):
    assert allow_email("magic", "alice@example.com")
    EmailCooldown.objects.update(sent_at=EmailCooldown.objects.get().sent_at.replace(year=2000))

    assert allow_email("magic", "alice@example.com")
    assert EmailCooldown.objects.count() == 1


@pytest.mark.django_db
def test_no_address_is_stored_in_the_clear():
    allow_email("magic", "alice@example.com")

    row = EmailCooldown.objects.get()
    assert "alice" not in row.address_digest and len(row.address_digest) == 64


@pytest.mark.django_db(transaction=True)
def test_ten_sign_in_link_requests_at_once_on_separate_connections_send_one_email():
    User.objects.create_user("alice@example.com")
    start = threading.Barrier(10)
    statuses: list[int] = []

    def ask() -> None:
        try:
            start.wait(timeout=10)
            response = Client().post("/login/link/", {"email": "alice@example.com"})
            statuses.append(response.status_code)
        finally:
            connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert statuses == [302] * 10
    assert len(mail.outbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "email"),
    [
        ("/signup/", "new@example.com"),
        ("/login/link/", "alice@example.com"),
        ("/password/reset/", "alice@example.com"),
    ],
)
def test_with_redis_down_the_forms_that_email_still_answer(settings, personas, path, email):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }

    response = CommittingClient().post(path, {"email": email}, follow=True)

    assert response.status_code == 200
    assert len(mail.outbox) == 1
