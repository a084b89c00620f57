"""People the tests talk about: alice has a verified address with an avatar, bob has an
unverified address, charlie has nothing."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import User
from avatars.models import Address, Avatar
from avatars.services import address_confirm, avatar_assign, avatar_store
from tests.conftest import image_bytes


@dataclass
class Personas:
    alice: User
    alice_address: Address
    alice_avatar: Avatar
    bob: User
    bob_address: Address
    charlie: User


def make_personas() -> Personas:
    alice = User.objects.create_user("alice@example.com", "alice-password-1")
    # Rows rather than `address_add`, which would email a confirmation and start its cooldown.
    alice_address = address_confirm(
        address=Address.objects.create(owner=alice, email="alice@example.com")
    )
    alice_avatar = avatar_store(owner=alice, data=image_bytes((400, 400), (20, 120, 220)))
    avatar_assign(avatar=alice_avatar, addresses=[alice_address])
    bob = User.objects.create_user("bob@example.com", "bob-password-1")
    bob_address = Address.objects.create(owner=bob, email="bob@example.com")
    charlie = User.objects.create_user("charlie@example.com", "charlie-password-1")
    return Personas(alice, alice_address, alice_avatar, bob, bob_address, charlie)
