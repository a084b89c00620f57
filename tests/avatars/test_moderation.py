"""Moderation services: every decision is recorded and purges the hashes it affects."""

from __future__ import annotations

import pytest

from avatars.models import Avatar, ModerationAction, ModerationState
from avatars.moderation import avatars_set_rating, avatars_set_state, user_set_active
from avatars.selectors import StoredImage, hash_resolve
from avatars.services import avatar_store
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db


def shown_image(digest: str) -> StoredImage | None:
    """What hash_resolve offers for the digest of a verified address."""
    found = hash_resolve(digest=digest)
    assert found is not None, f"{digest} is not a verified address"
    return found.image


def test_reject_records_who_what_when_and_hides_the_image(personas, moderator, queued_purges):
    avatar = personas.alice_avatar
    assert shown_image(personas.alice_address.md5) is not None
    changed = avatars_set_state(
        moderator=moderator, avatars=[avatar], state=ModerationState.REJECTED, note="spam"
    )
    assert changed == 1
    avatar.refresh_from_db()
    assert avatar.state == ModerationState.REJECTED
    action = ModerationAction.objects.get()
    assert (action.moderator, action.kind, action.avatar, action.subject_user) == (
        moderator,
        ModerationAction.Kind.REJECT,
        avatar,
        personas.alice,
    )
    assert (action.before, action.after, action.note) == ("new", "rejected", "spam")
    assert action.created_at is not None
    assert shown_image(personas.alice_address.md5) is None
    assert {personas.alice_address.md5, personas.alice_address.sha256} <= queued_purges()


def test_an_unchanged_state_is_not_recorded_again(personas, moderator):
    avatars_set_state(
        moderator=moderator, avatars=[personas.alice_avatar], state=ModerationState.APPROVED
    )
    again = avatars_set_state(
        moderator=moderator, avatars=[personas.alice_avatar], state=ModerationState.APPROVED
    )
    assert again == 0
    assert ModerationAction.objects.count() == 1


def test_bulk_approve_records_one_action_per_avatar(personas, moderator):
    second = avatar_store(owner=personas.bob, data=image_bytes())
    avatars_set_state(
        moderator=moderator,
        avatars=Avatar.objects.all(),
        state=ModerationState.APPROVED,
    )
    assert set(Avatar.objects.values_list("state", flat=True)) == {"approved"}
    assert set(ModerationAction.objects.values_list("avatar", flat=True)) == {
        personas.alice_avatar.pk,
        second.pk,
    }


def test_pre_moderation_shows_only_approved_images(personas, moderator, settings):
    settings.AVATAR_MODERATION = "pre"
    assert shown_image(personas.alice_address.md5) is None
    avatars_set_state(
        moderator=moderator, avatars=[personas.alice_avatar], state=ModerationState.APPROVED
    )
    assert shown_image(personas.alice_address.md5) is not None


def test_a_rating_change_is_recorded_and_purged(personas, moderator, queued_purges):
    avatars_set_rating(moderator=moderator, avatars=[personas.alice_avatar], rating="r")
    personas.alice_avatar.refresh_from_db()
    assert personas.alice_avatar.rating == "r"
    action = ModerationAction.objects.get()
    assert (action.kind, action.before, action.after) == ("rate", "g", "r")
    assert personas.alice_address.sha256 in queued_purges()
    with pytest.raises(ValueError):
        avatars_set_rating(moderator=moderator, avatars=[personas.alice_avatar], rating="nc17")


def test_disabling_an_account_serves_defaults_and_blocks_sign_in(
    personas, moderator, queued_purges
):
    assert user_set_active(moderator=moderator, user=personas.alice, active=False)
    personas.alice.refresh_from_db()
    assert not personas.alice.is_active
    assert shown_image(personas.alice_address.md5) is None
    action = ModerationAction.objects.get()
    assert (action.kind, action.subject_user, action.after) == (
        "disable_user",
        personas.alice,
        "disabled",
    )
    assert personas.alice_address.md5 in queued_purges()
    assert not user_set_active(moderator=moderator, user=personas.alice, active=False)
    assert user_set_active(moderator=moderator, user=personas.alice, active=True)
    assert shown_image(personas.alice_address.md5) is not None
