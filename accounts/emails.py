"""Every email the service sends goes through `send`: one function per kind, each with a subject,
text and HTML template under templates/emails/. Links are built from SITE_URL, never from the
request's Host header, so a forged Host cannot point a link at someone else's site.

An email is rendered at once and sent after the current transaction commits (at once outside
one), so a rolled-back change sends nothing. Sending is tried a few times; an SMTP server that
stays down is logged, never an error for the person, who sees the same page either way.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from accounts.tokens import MAGIC_LINK_LIFETIME, magic_link_tokens

logger = logging.getLogger(__name__)

# A short outage (a restarting relay, a refused or dropped connection) is ridden out within a
# request; a server that accepts and never answers costs one EMAIL_TIMEOUT, never three.
SEND_ATTEMPTS = 3
RETRY_DELAYS_SECONDS = (0.25, 0.75)


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def magic_link_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = magic_link_tokens.make_token(user)
    return absolute(reverse("magic_link_confirm", args=[uid, token]))


def send_magic_link(*, user: User, to: str) -> None:
    """A one-time sign-in link, sent to the account's address the person typed."""
    send(
        "magic_link",
        to=to,
        context={
            "user": user,
            "url": magic_link_url(user),
            "minutes": int(MAGIC_LINK_LIFETIME.total_seconds() // 60),
        },
    )


def send_signup_existing(*, user: User, to: str) -> None:
    """Someone signed up with an address that already has an account. The page they saw is
    the same as for a new account; only the mailbox's owner learns the account exists."""
    send(
        "signup_existing",
        to=to,
        context={
            "user": user,
            "url": magic_link_url(user),
            "minutes": int(MAGIC_LINK_LIFETIME.total_seconds() // 60),
            "reset_url": absolute(reverse("password_reset")),
        },
    )


def send_password_reset(*, user: User, url: str) -> None:
    send("password_reset", to=user.email, context={"user": user, "url": url})


def send(kind: str, *, to: str, context: dict[str, Any]) -> None:
    """Render the email of this kind now and send it once the transaction commits."""
    context = {**context, "site_url": settings.SITE_URL}
    # A header must be one line, whatever the template's trailing newline.
    subject = " ".join(render_to_string(f"emails/{kind}_subject.txt", context).split())
    text = render_to_string(f"emails/{kind}.txt", context)
    html = render_to_string(f"emails/{kind}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    transaction.on_commit(partial(_deliver, message, kind))


def _deliver(message: EmailMultiAlternatives, kind: str) -> bool:
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            # A fresh connection each time: a backend that failed half-way keeps a dead one.
            get_connection().send_messages([message])
        except OSError as error:  # smtplib's errors, refused and timed-out connections
            # A server that does not answer would not answer sooner on a second try: waiting
            # for it again could outlast the request's own time limit (gunicorn's 30 s).
            if attempt == SEND_ATTEMPTS or _timed_out(error):
                logger.error(
                    "The %s email was not sent after %d attempts: %s: %s",
                    kind,
                    attempt,
                    type(error).__name__,
                    error,
                )
                return False
            time.sleep(RETRY_DELAYS_SECONDS[attempt - 1])
        else:
            return True
    return False


def _timed_out(error: BaseException) -> bool:
    # smtplib reports a read that timed out as SMTPServerDisconnected raised from it.
    return isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError)
