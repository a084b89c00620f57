"""What a name answers, remembered per worker (`profiles.selectors.profile_resolve` on
`avatars.resolution.cached_in`): a hot profile costs no query, and every change verb that
names any key of the answer (a profile's, or the avatar side's digests) drops it at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from avatars import resolution
from avatars.freshness import user_served_changed
from profiles.freshness import profile_served_changed
from profiles.models import OldSlug, Profile
from profiles.request import ProfileName
from profiles.selectors import PublicProfile, SlugRedirect, profile_resolve
from tests.personas import Personas, make_personas
from tests.profiles.published import publish_alice


@pytest.fixture
def memory_here(settings: Any, tmp_path: Path) -> Iterator[None]:
    """A fresh cache for this process with the settings of the test and no Redis."""
    settings.VAR_DIR = tmp_path
    settings.REDIS_URL = ""
    resolution._process = None
    yield
    resolution._process = None


@pytest.fixture
def people(transactional_db: None, memory_here: None) -> Personas:
    """Committed rows: outside a transaction, as the public views run."""
    return make_personas()


@pytest.fixture
def alice_profile(people: Personas) -> Profile:
    return publish_alice(people)


def resolve(name: str) -> tuple[PublicProfile | SlugRedirect | None, int]:
    with CaptureQueriesContext(connection) as captured:
        found = profile_resolve(ProfileName.parse(name))
    return found, len(captured)


def location(name: str) -> str:
    found, _ = resolve(name)
    assert isinstance(found, PublicProfile)
    return found.location


def test_a_hot_name_costs_no_query(people, alice_profile):
    for name in (people.alice_address.md5, "alice", "0" * 64, "nobody"):
        first, queries = resolve(name)
        assert queries > 0
        again, queries = resolve(name)
        assert (again, queries) == (first, 0)


def test_a_profile_change_drops_every_name_of_it(people, alice_profile):
    names = [people.alice_address.md5, people.alice_address.sha256, "alice"]
    assert [location(name) for name in names] == ["Lisbon"] * 3
    with transaction.atomic():
        Profile.objects.filter(pk=alice_profile.pk).update(location="Porto")
        alice_profile.refresh_from_db()
        profile_served_changed(profile=alice_profile)
    assert [location(name) for name in names] == ["Porto"] * 3


def test_an_avatar_side_change_drops_the_slugs_answer_too(people, alice_profile):
    """user_served_changed names only digests; the slug's entry carries them as tags."""
    assert location("alice") == "Lisbon"
    with transaction.atomic():
        people.alice.is_active = False
        people.alice.save()
        user_served_changed(user=people.alice)
    assert resolve("alice")[0] is None


def test_a_publish_drops_the_remembered_not_found(people, alice_profile):
    Profile.objects.filter(pk=alice_profile.pk).update(published=False)
    assert resolve("alice")[0] is None and resolve("alice")[1] == 0
    with transaction.atomic():
        Profile.objects.filter(pk=alice_profile.pk).update(published=True)
        profile_served_changed(profile=alice_profile)
    assert isinstance(resolve("alice")[0], PublicProfile)


def test_an_old_slugs_redirect_goes_when_the_profile_is_unpublished(people, alice_profile):
    OldSlug.objects.create(slug="alice-old", profile=alice_profile, retired_at=timezone.now())
    assert isinstance(resolve("alice-old")[0], SlugRedirect)
    with transaction.atomic():
        Profile.objects.filter(pk=alice_profile.pk).update(published=False)
        profile_served_changed(profile=alice_profile)
    assert resolve("alice-old")[0] is None


def test_a_rolled_back_change_keeps_the_answer(people, alice_profile):
    assert location("alice") == "Lisbon"
    with pytest.raises(RuntimeError), transaction.atomic():
        profile_served_changed(profile=alice_profile)
        raise RuntimeError("rolled back")
    assert resolve("alice")[1] == 0


def test_inside_a_transaction_nothing_is_read_from_memory_or_kept(people, alice_profile):
    location("alice")
    with transaction.atomic():
        Profile.objects.filter(pk=alice_profile.pk).update(location="Porto")
        assert location("alice") == "Porto"  # its own uncommitted row, never remembered
        transaction.set_rollback(True)
    assert location("alice") == "Lisbon"


def test_memory_is_bounded(settings, people, alice_profile):
    settings.PROFILE_RESOLUTION_MEMORY_ENTRIES = 3
    resolution._process = None
    for number in range(20):
        resolve(f"{number:064x}")
    assert len(resolution._current().spaces["profiles"]) == 3


def test_zero_turns_it_off(settings, people, alice_profile):
    settings.PROFILE_RESOLUTION_MEMORY_ENTRIES = 0
    resolution._process = None
    resolve("alice")
    assert resolve("alice")[1] > 0


def test_the_avatar_space_is_its_own(people, alice_profile):
    """A profile entry never answers a hash's avatar resolution, and both hear a change."""
    from avatars.selectors import hash_resolve

    digest = people.alice_address.md5
    resolve(digest)
    known = hash_resolve(digest=digest)
    assert known is not None and known.md5 == digest
    memory = resolution._current()
    assert memory.memory.get(digest) is not None
    assert memory.spaces["profiles"].get(digest) is not None
    resolution.digests_changed([digest])
    assert memory.memory.get(digest) is None
    assert memory.spaces["profiles"].get(digest) is None
