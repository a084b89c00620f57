"""Every email the service sends: one function per kind, each with a subject, text and HTML
template under templates/emails/. Links are built from SITE_URL, never from the request's Host
header, so a forged Host cannot point a link at someone else's site."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from accounts.tokens import (
    ADDRESS_CONFIRMATION_LIFETIME,
    MAGIC_LINK_LIFETIME,
    address_tokens,
    magic_link_tokens,
)
from avatars.models import Address


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def magic_link_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = magic_link_tokens.make_token(user)
    return absolute(reverse("magic_link_confirm", args=[uid, token]))


def address_confirmation_url(address: Address) -> str:
    # Django's generator is written for users; ours hashes an address's fields instead.
    token = address_tokens.make_token(address)  # type: ignore[arg-type]
    return absolute(reverse("address_confirm", args=[address.pk, token]))


def send_address_confirmation(*, address: Address) -> None:
    """A link that proves the person reads this mailbox; for a new account it also signs in."""
    _send(
        "address_confirmation",
        to=address.email,
        context={
            "address": address,
            "url": address_confirmation_url(address),
            "signs_in": address.email == address.owner.email,
            "days": ADDRESS_CONFIRMATION_LIFETIME.days,
        },
    )


def send_magic_link(*, user: User, to: str) -> None:
    """A one-time sign-in link, sent to the account's address the person typed."""
    _send(
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
    _send(
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
    _send("password_reset", to=user.email, context={"user": user, "url": url})


def _send(kind: str, *, to: str, context: dict[str, Any]) -> None:
    context = {**context, "site_url": settings.SITE_URL}
    # A header must be one line, whatever the template's trailing newline.
    subject = " ".join(render_to_string(f"emails/{kind}_subject.txt", context).split())
    text = render_to_string(f"emails/{kind}.txt", context)
    html = render_to_string(f"emails/{kind}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()
