"""One-time tokens in emailed links, built on Django's password-reset token machinery.

Each generator hashes state that the link's use changes, so a link works once: signing in
updates `last_login` (the address confirmation's generator, in `avatars.tokens`, hashes
`verified_at`). The timestamp in the token and the generator's own lifetime make it expire.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int

from accounts.models import User

# A sign-in link is as good as a password, so it lives only long enough to open the mail.
MAGIC_LINK_LIFETIME = timedelta(minutes=15)


class ExpiringTokenGenerator(PasswordResetTokenGenerator):
    """Django's generator with a lifetime of its own instead of PASSWORD_RESET_TIMEOUT."""

    lifetime: timedelta

    def check_token(self, user: Any, token: str | None) -> bool:
        if not (user and token):
            return False
        try:
            timestamp = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        if self._num_seconds(self._now()) - timestamp > self.lifetime.total_seconds():
            return False
        return any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )


class MagicLinkTokenGenerator(ExpiringTokenGenerator):
    key_salt = "accounts.tokens.MagicLinkTokenGenerator"
    lifetime = MAGIC_LINK_LIFETIME

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        login = "" if user.last_login is None else user.last_login.replace(microsecond=0)
        return f"{user.pk}|{user.password}|{login}|{user.email}|{user.is_active}|{timestamp}"


magic_link_tokens = MagicLinkTokenGenerator()
