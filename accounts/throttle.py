"""A cooldown on emails that anyone can trigger by typing an address (sign-up, sign-in links,
password resets, confirmation resends), so the forms cannot be used to flood a mailbox.

The page a person sees does not change when an email is held back: it must not reveal
whether an account exists.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest

from accounts.models import normalise_email

# One email of each kind per address per minute is plenty for a person retrying.
EMAIL_COOLDOWN_SECONDS = 60


def allow_email(kind: str, address: str) -> bool:
    """True the first time in a cooldown window for this kind and address, False after."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()
    return bool(cache.add(f"email-cooldown:{kind}:{digest}", 1, EMAIL_COOLDOWN_SECONDS))


def login_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The name django-axes counts failures against: the address as typed into the login form,
    normalised, so that "Alice@Example.com" and "alice@example.com" share one counter."""
    raw = (credentials or {}).get("username") or request.POST.get("username")
    return normalise_email(str(raw)) if raw else None
