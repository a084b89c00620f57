"""A cooldown on emails that anyone can trigger by typing an address (sign-up, sign-in links,
password resets, confirmation resends), so the forms cannot be used to flood a mailbox.

The page a person sees does not change when an email is held back: it must not reveal
whether an account exists.

The window is a database row per kind and address (`EmailCooldown`), taken with one insert
that the unique constraint lets only one request win, so it holds across workers and nodes
on the embedded SQLite default too, and needs no cache: Redis being down changes nothing here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import EmailCooldown, normalise_email

# One email of each kind per address per minute is plenty for a person retrying.
EMAIL_COOLDOWN = timedelta(seconds=60)


def allow_email(kind: str, address: str) -> bool:
    """True the first time in a cooldown window for this kind and address, False after."""
    digest = salted_hmac(
        "accounts.throttle.allow_email", normalise_email(address), algorithm="sha256"
    ).hexdigest()
    now = timezone.now()
    # Expired windows go first, which also keeps the table to the last minute's emails.
    EmailCooldown.objects.filter(sent_at__lte=now - EMAIL_COOLDOWN).delete()
    try:
        with transaction.atomic():  # a savepoint when the caller is in a transaction
            EmailCooldown.objects.create(kind=kind, address_digest=digest, sent_at=now)
    except IntegrityError:  # another request holds the window
        return False
    return True


def login_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The name django-axes counts failures against: the address as typed into the login form,
    normalised, so that "Alice@Example.com" and "alice@example.com" share one counter."""
    raw = (credentials or {}).get("username") or request.POST.get("username")
    return normalise_email(str(raw)) if raw else None
