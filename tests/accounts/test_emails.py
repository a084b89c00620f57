"""Every email kind has a subject, a text body and an HTML body, with absolute links; each is
sent after the commit (the callbacks run here as a commit would run them)."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time

import pytest
from django.core import mail
from django.db import transaction

from accounts import emails
from tests.conftest import CommittingClient, html_of, sent_email

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("email_site")]


def test_magic_link(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        emails.send_magic_link(user=personas.alice, to="alice@example.com")
    message = sent_email()
    assert message.subject == "Your sign-in link"
    assert "https://avatars.example.com/login/link/" in message.body
    assert "within 15 minutes" in message.body
    assert "https://avatars.example.com/login/link/" in html_of(message)


def test_signup_existing(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        emails.send_signup_existing(user=personas.alice, to="alice@example.com")
    message = sent_email()
    assert message.subject == "You already have an avatar account"
    assert "https://avatars.example.com/login/link/" in message.body
    assert "https://avatars.example.com/password/reset/" in message.body
    assert "choose a new password" in html_of(message)


def test_password_reset(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        emails.send_password_reset(user=personas.alice, url="https://avatars.example.com/x/")
    message = sent_email()
    assert message.subject == "Choose a new password"
    assert "https://avatars.example.com/x/" in message.body
    assert "https://avatars.example.com/x/" in html_of(message)


class SmtpListener:
    """A real SMTP server on 127.0.0.1 that closes the first `refuse` connections at once (an
    outage, as smtplib sees one) and speaks just enough SMTP to take a message after that."""

    def __init__(self, *, refuse: int, silent: bool = False) -> None:
        self.refuse = refuse
        self.silent = silent  # accept and never answer, like a frozen server
        self.connections = 0
        self.messages: list[bytes] = []
        self.held: list[socket.socket] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed by the test
                return
            self.connections += 1
            if self.silent:
                self.held.append(conn)
                continue
            with conn:
                if self.connections > self.refuse:
                    self._talk(conn.makefile("rwb"))

    def _talk(self, stream: io.BufferedRWPair) -> None:
        def say(line: str) -> None:
            stream.write(f"{line}\r\n".encode())
            stream.flush()

        say("220 localhost ready")
        data: list[bytes] | None = None
        for raw in stream:
            line = raw.rstrip(b"\r\n")
            if data is not None:
                if line == b".":
                    self.messages.append(b"\n".join(data))
                    data = None
                    say("250 queued")
                else:
                    data.append(line)
            elif line[:4].upper() == b"DATA":
                data = []
                say("354 end with a dot")
            elif line[:4].upper() == b"QUIT":
                say("221 bye")
                return
            else:
                say("250 localhost" if line[:4].upper() in {b"EHLO", b"HELO"} else "250 ok")

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def smtp(settings):
    """Email through real SMTP to a local listener; the test chooses how many connections
    it refuses."""
    listeners: list[SmtpListener] = []

    def start(*, refuse: int = 0, silent: bool = False) -> SmtpListener:
        listener = SmtpListener(refuse=refuse, silent=silent)
        listeners.append(listener)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", listener.port
        settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 2
        return listener

    yield start
    for listener in listeners:
        listener.close()


def ask_for_link() -> int:
    return CommittingClient().post("/login/link/", {"email": "alice@example.com"}).status_code


def test_an_smtp_outage_is_retried_then_logged_and_the_page_still_answers(personas, smtp, caplog):
    listener = smtp(refuse=99)

    assert ask_for_link() == 302

    assert listener.connections == emails.SEND_ATTEMPTS
    assert "The magic_link email was not sent after 3 attempts" in caplog.text
    assert "alice@example.com" not in caplog.text


def test_an_smtp_server_that_is_not_listening_is_logged_too(personas, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_USE_TLS = "127.0.0.1", False
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = probe.getsockname()[1]

    assert ask_for_link() == 302
    assert "ConnectionRefusedError" in caplog.text


def test_a_server_that_never_answers_costs_one_timeout_not_three(personas, smtp, caplog):
    listener = smtp(silent=True)

    started = time.monotonic()
    assert ask_for_link() == 302
    elapsed = time.monotonic() - started

    assert listener.connections == 1
    assert "The magic_link email was not sent after 1 attempts" in caplog.text
    assert "timed out" in caplog.text
    assert elapsed < 2 * 2  # EMAIL_TIMEOUT is 2 s here


def test_a_short_outage_is_ridden_out_by_the_retries(personas, smtp, caplog):
    listener = smtp(refuse=2)

    assert ask_for_link() == 302

    assert listener.connections == 3
    assert len(listener.messages) == 1
    assert b"Subject: Your sign-in link" in listener.messages[0]
    assert "not sent" not in caplog.text


def test_an_email_of_a_rolled_back_transaction_is_never_sent(
    personas, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        emails.send_magic_link(user=personas.alice, to="alice@example.com")
        raise RuntimeError("a later step failed")

    assert mail.outbox == []


def test_an_email_waits_for_the_commit(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        emails.send_magic_link(user=personas.alice, to="alice@example.com")
        assert mail.outbox == []

    assert len(callbacks) == 1
