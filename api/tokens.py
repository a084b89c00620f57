"""Every secret the API hands out: a recognisable prefix (so a leaked one can be found by
secret scanners and told apart at a glance) and 256 random bits. Only a SHA-256 checksum of
each is stored; a SHA-256 suffices because the secrets are random, not chosen by people."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

PERSONAL_PREFIX = "avp_"
SITE_KEY_PREFIX = "avk_"
ACCESS_PREFIX = "ava_"
REFRESH_PREFIX = "avr_"
# The first characters shown beside a stored secret so its owner can tell which one it is.
HINT_LENGTH = 8
RANDOM_BYTES = 32


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(RANDOM_BYTES)


def checksum(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hint(secret: str) -> str:
    """What the pages show of a secret after it was shown once: its prefix and a few
    characters, never enough to use."""
    return secret[: len(PERSONAL_PREFIX) + HINT_LENGTH] + "…"


def access_token_generator(request: Any, refresh_token: bool = False) -> str:
    """django-oauth-toolkit's ACCESS_TOKEN_GENERATOR."""
    return new_secret(ACCESS_PREFIX)


def refresh_token_generator(request: Any, refresh_token: bool = False) -> str:
    """django-oauth-toolkit's REFRESH_TOKEN_GENERATOR."""
    return new_secret(REFRESH_PREFIX)
