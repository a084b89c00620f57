"""Every answer of a profile carries its slug's key, and shows the account's addresses, avatar
and name: so a change made by avatars (an address, an image, the account) purges the slug keys
too, through the hook profiles registers (avatars.hooks.owner_keys_register)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from avatars.models import Address, ModerationState
from avatars.moderation import avatars_set_state, user_set_active
from avatars.services import account_delete, address_confirm, address_primary, address_remove
from profiles.freshness import profile_served_changed, slug_keys_of_owners
from profiles.models import OldSlug, Profile
from tests.profiles.moderated import WORK_EMAIL, make_published

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(personas):
    return make_published(personas)


def test_the_hook_names_the_current_and_redirecting_slugs(personas, published):
    OldSlug.objects.create(slug="alice-old", profile=published, retired_at=timezone.now())
    OldSlug.objects.create(
        slug="alice-ancient", profile=published, retired_at=timezone.now() - timedelta(days=400)
    )
    assert sorted(slug_keys_of_owners({personas.alice.pk})) == ["slug-alice", "slug-alice-old"]
    assert slug_keys_of_owners({personas.charlie.pk}) == []


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda p, m: user_set_active(moderator=m, user=p.alice, active=False), id="disabled"
        ),
        pytest.param(lambda p, m: account_delete(user=p.alice), id="deleted"),
        pytest.param(
            lambda p, m: avatars_set_state(
                moderator=m, avatars=[p.alice_avatar], state=ModerationState.REJECTED
            ),
            id="image-rejected",
        ),
        pytest.param(
            lambda p, m: address_remove(address=p.alice.addresses.get(email=WORK_EMAIL)),
            id="address-removed",
        ),
        pytest.param(
            lambda p, m: address_primary(address=p.alice.addresses.get(email=WORK_EMAIL)),
            id="primary-changed",
        ),
        pytest.param(
            lambda p, m: address_confirm(
                address=Address.objects.create(owner=p.alice, email="new@alice.example")
            ),
            id="address-verified",
        ),
    ],
)
def test_changes_made_by_avatars_purge_the_slug(
    personas, published, moderator, queued_purges, change
):
    change(personas, moderator)
    assert "slug-alice" in queued_purges()


def test_a_change_to_an_account_without_a_profile_purges_only_digests(personas, queued_purges):
    user_set_active(moderator=personas.charlie, user=personas.bob, active=False)
    assert not any(key.startswith("slug-") for key in queued_purges())


def test_a_slug_change_purges_the_old_and_the_new_slug(personas, published, queued_purges):
    Profile.objects.filter(pk=published.pk).update(slug="alice-new")
    published.refresh_from_db()
    profile_served_changed(profile=published, slugs=["alice"])
    assert {"slug-alice", "slug-alice-new"} <= queued_purges()
