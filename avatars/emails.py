"""The library's emails, sent through `accounts.emails.send` (after the commit, with retries)."""

from __future__ import annotations

from django.urls import reverse

from accounts.emails import absolute, send
from avatars.models import Address
from avatars.tokens import ADDRESS_CONFIRMATION_LIFETIME, address_tokens


def address_confirmation_url(address: Address) -> str:
    # Django's generator is written for users; ours hashes an address's fields instead.
    token = address_tokens.make_token(address)  # type: ignore[arg-type]
    return absolute(reverse("address_confirm", args=[address.pk, token]))


def send_address_confirmation(*, address: Address) -> None:
    """A link that proves the person reads this mailbox; for a new account it also signs in."""
    send(
        "address_confirmation",
        to=address.email,
        context={
            "address": address,
            "url": address_confirmation_url(address),
            "signs_in": address.email == address.owner.email,
            "days": ADDRESS_CONFIRMATION_LIFETIME.days,
        },
    )
