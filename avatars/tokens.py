"""The address confirmation link's token, on the sign-in links' expiring generator."""

from __future__ import annotations

from datetime import timedelta

from accounts.tokens import ExpiringTokenGenerator
from avatars.models import Address

# People confirm an address days later (holidays, spam folders); the link is single-use anyway.
ADDRESS_CONFIRMATION_LIFETIME = timedelta(days=3)


class AddressConfirmationTokenGenerator(ExpiringTokenGenerator):
    # The salt predates the move from accounts: links already sent keep working.
    key_salt = "accounts.tokens.AddressConfirmationTokenGenerator"
    lifetime = ADDRESS_CONFIRMATION_LIFETIME

    def _make_hash_value(self, address: Address, timestamp: int) -> str:  # type: ignore[override]
        return f"{address.pk}|{address.owner_id}|{address.email}|{address.verified_at}|{timestamp}"


address_tokens = AddressConfirmationTokenGenerator()
