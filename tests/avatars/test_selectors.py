"""hash_resolve: one indexed query from a digest to what its address may show."""

from __future__ import annotations

from datetime import UTC

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from avatars.models import Address, Avatar, ModerationState
from avatars.selectors import hash_resolve

pytestmark = pytest.mark.django_db


def test_both_digests_resolve_to_the_same_address_and_image(personas):
    address = personas.alice_address
    by_md5 = hash_resolve(digest=address.md5)
    by_sha256 = hash_resolve(digest=address.sha256)
    assert by_md5 == by_sha256
    assert by_md5 is not None and by_md5.image is not None
    assert (by_md5.md5, by_md5.sha256) == (address.md5, address.sha256)
    assert by_md5.image.digest == personas.alice_avatar.digest
    assert by_md5.image.format == "JPEG"
    assert by_md5.image.rating_rank == 0


def test_times_come_back_timezone_aware(personas):
    found = hash_resolve(digest=personas.alice_address.md5)
    assert found is not None and found.image is not None
    assert found.updated_at.utcoffset() == UTC.utcoffset(None)
    assert found.image.updated_at == Avatar.objects.get().updated_at


def test_it_costs_one_select(personas):
    with CaptureQueriesContext(connection) as queries:
        hash_resolve(digest=personas.alice_address.sha256)
    assert len(queries) == 1


def test_unknown_unverified_and_malformed_digests_resolve_to_nothing(personas):
    assert hash_resolve(digest="0" * 32) is None
    assert hash_resolve(digest=personas.bob_address.md5) is None
    with CaptureQueriesContext(connection) as queries:
        assert hash_resolve(digest="abc") is None
    assert len(queries) == 0


@pytest.mark.parametrize(
    "change", [{"hide_avatar": True}, {"is_active": False}], ids=["hidden", "inactive"]
)
def test_an_account_that_hides_or_is_disabled_shows_no_image(personas, change):
    User.objects.filter(pk=personas.alice.pk).update(**change)
    found = hash_resolve(digest=personas.alice_address.md5)
    assert found is not None and found.image is None


def test_an_address_without_an_avatar_is_known_but_shows_no_image(personas):
    Address.objects.filter(pk=personas.alice_address.pk).update(avatar=None)
    found = hash_resolve(digest=personas.alice_address.md5)
    assert found is not None and found.image is None


@pytest.mark.parametrize(
    ("moderation", "state", "visible"),
    [
        ("post", ModerationState.NEW, True),
        ("post", ModerationState.FLAGGED, True),
        ("post", ModerationState.REJECTED, False),
        ("pre", ModerationState.NEW, False),
        ("pre", ModerationState.APPROVED, True),
    ],
)
def test_moderation_state_decides_visibility(settings, personas, moderation, state, visible):
    settings.AVATAR_MODERATION = moderation
    Avatar.objects.update(state=state)
    found = hash_resolve(digest=personas.alice_address.md5)
    assert found is not None and (found.image is not None) is visible


def test_the_display_name_is_offered_only_when_public(personas):
    User.objects.filter(pk=personas.alice.pk).update(display_name="Alice Liddell")
    found = hash_resolve(digest=personas.alice_address.md5)
    assert found is not None and found.public_name == ""
    User.objects.filter(pk=personas.alice.pk).update(display_name_public=True)
    found = hash_resolve(digest=personas.alice_address.md5)
    assert found is not None and found.public_name == "Alice Liddell"
    User.objects.filter(pk=personas.alice.pk).update(is_active=False)
    found = hash_resolve(digest=personas.alice_address.md5)
    assert found is not None and found.public_name == ""


def test_the_rating_is_reported_as_a_rank(personas):
    Avatar.objects.update(rating="r")
    found = hash_resolve(digest=personas.alice_address.md5)
    assert found is not None and found.image is not None
    assert found.image.rating_rank == 2
