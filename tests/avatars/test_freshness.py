"""Every kind of change to what a hash serves queues a purge of exactly the digests it changed.

The same fourteen kinds as tests/varnish/test_edge_freshness.py, checked here without varnishd:
the node is a closed local port, and the test reads the keys of the rows the change queued in
its transaction (a purge and its echo).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from PIL import Image

from accounts.models import User
from avatars import moderation, services
from avatars.freshness import (
    addresses_served_changed,
    avatars_served_changed,
    digests_of,
    user_served_changed,
)
from avatars.imaging.square import CropBox
from avatars.models import Address, ModerationState, PurgeRequest
from tests.conftest import image_bytes
from tests.personas import Personas, make_personas

pytestmark = pytest.mark.django_db


@dataclass
class World:
    people: Personas
    moderator: User
    charlies_address: Address


@pytest.fixture
def world(settings, moderator) -> World:
    settings.VARNISH_NODES = ["http://127.0.0.1:9"]  # closed: nothing is delivered
    people = make_personas()
    charlies = services.address_confirm(
        address=Address.objects.create(owner=people.charlie, email="c@example.com")
    )
    PurgeRequest.objects.all().delete()  # what setting up queued
    return World(people, moderator, charlies)


def queued_keys() -> list[set[str]]:
    return [set(row.digests.split()) for row in PurgeRequest.objects.order_by("pk")]


def both(address: Address) -> set[str]:
    return {address.md5, address.sha256}


def cropped_red() -> bytes:
    image = Image.new("RGB", (400, 200), (30, 200, 60))
    image.paste(Image.new("RGB", (200, 200), (220, 30, 30)), (200, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(w: World, **choices: object) -> None:
    services.avatar_upload(
        owner=w.people.alice,
        data=cropped_red() if choices else image_bytes((300, 300)),
        choices=services.UploadChoices(**choices),  # type: ignore[arg-type]
        addresses=[w.people.alice_address],
    )


def assign_another(w: World) -> None:
    green = services.avatar_store(owner=w.people.alice, data=image_bytes(color=(30, 200, 60)))
    PurgeRequest.objects.all().delete()
    services.avatar_assign(avatar=green, addresses=[w.people.alice_address])


def verify_bobs(w: World) -> None:
    services.address_confirm(address=w.people.bob_address)


def edit(w: World, *, rating: str, shown: bool) -> None:
    services.avatar_edit(
        avatar=w.people.alice_avatar,
        rating=rating,
        alt_text="",
        addresses=[w.people.alice_address] if shown else [],
    )


ALICE, BOB, CHARLIE = "alice", "bob", "charlie"

# Each kind of change, and whose address it must purge.
CHANGES: dict[str, tuple[Callable[[World], object], str]] = {
    "upload": (lambda w: upload(w), ALICE),
    "cropped_upload": (lambda w: upload(w, crop=CropBox(left=200, top=0, edge=200)), ALICE),
    "assignment": (assign_another, ALICE),
    "address_verified": (verify_bobs, BOB),
    "higher_rating": (lambda w: edit(w, rating="x", shown=True), ALICE),
    "unassign": (lambda w: edit(w, rating="g", shown=False), ALICE),
    "address_removed": (
        lambda w: services.address_remove(address=w.people.alice_address),
        ALICE,
    ),
    "hide_my_avatars": (
        lambda w: services.user_privacy_update(
            user=w.people.alice, display_name="", display_name_public=False, hide_avatar=True
        ),
        ALICE,
    ),
    "avatar_deleted": (lambda w: services.avatar_delete(avatar=w.people.alice_avatar), ALICE),
    "account_deleted": (lambda w: services.account_delete(user=w.people.alice), ALICE),
    "moderation_state": (
        lambda w: moderation.avatars_set_state(
            moderator=w.moderator,
            avatars=[w.people.alice_avatar],
            state=ModerationState.REJECTED,
        ),
        ALICE,
    ),
    "moderation_rating": (
        lambda w: moderation.avatars_set_rating(
            moderator=w.moderator, avatars=[w.people.alice_avatar], rating="r"
        ),
        ALICE,
    ),
    "account_disabled": (
        lambda w: moderation.user_set_active(
            moderator=w.moderator, user=w.people.alice, active=False
        ),
        ALICE,
    ),
    "display_name_made_public": (
        lambda w: services.user_privacy_update(
            user=w.people.charlie,
            display_name="Zed Quux",
            display_name_public=True,
            hide_avatar=False,
        ),
        CHARLIE,
    ),
}


def address_of(w: World, who: str) -> Address:
    return {
        ALICE: w.people.alice_address,
        BOB: w.people.bob_address,
        CHARLIE: w.charlies_address,
    }[who]


def test_the_list_has_every_kind_the_edge_test_has():
    assert len(CHANGES) == 14


@pytest.mark.parametrize("kind", CHANGES)
def test_each_change_queues_a_purge_and_its_echo_of_both_digests(world: World, kind: str):
    change, whose = CHANGES[kind]
    expected = both(address_of(world, whose))

    change(world)

    assert queued_keys() == [expected, expected]


NO_CHANGE: dict[str, Callable[[World], object]] = {
    "primary_changed": lambda w: services.address_primary(
        address=services.address_confirm(
            address=Address.objects.create(owner=w.people.alice, email="work@example.com")
        )
    ),
    "description_edited": lambda w: services.avatar_edit(
        avatar=w.people.alice_avatar,
        rating="g",
        alt_text="A new description",
        addresses=[w.people.alice_address],
    ),
    "profile_saved_unchanged": lambda w: services.user_privacy_update(
        user=w.people.alice, display_name="", display_name_public=False, hide_avatar=False
    ),
}


@pytest.mark.parametrize("kind", NO_CHANGE)
def test_a_change_that_serves_the_same_purges_nothing_for_it(world: World, kind: str):
    NO_CHANGE[kind](world)

    queued = set().union(*queued_keys())
    assert not queued & both(world.people.alice_address)


def test_the_verbs_take_model_objects_and_name_both_digests(world: World):
    alice, charlie = world.people.alice_address, world.charlies_address

    addresses_served_changed(addresses=[alice, charlie])
    avatars_served_changed(avatars=[world.people.alice_avatar])
    user_served_changed(user=world.people.charlie)

    assert queued_keys() == [
        both(alice) | both(charlie),
        both(alice) | both(charlie),
        both(alice),
        both(alice),
        both(charlie),
        both(charlie),
    ]
    assert digests_of([alice]) == [alice.md5, alice.sha256]


def test_an_unverified_address_is_not_purged_for_its_owner(world: World):
    user_served_changed(user=world.people.bob)

    assert queued_keys() == []
