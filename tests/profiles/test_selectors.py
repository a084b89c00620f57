"""Who has a public profile (spec §1): every private case answers None, exactly like unknown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from avatars.models import Address
from avatars.services import address_confirm
from profiles.models import AddressChoice, OldSlug, Profile, ProfileAccount, ProfileLink
from profiles.selectors import profile_public, slug_redirect_profile
from tests.personas import Personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(personas: Personas) -> Profile:
    profile = Profile.objects.create(
        user=personas.alice, published=True, slug="alice", location="Lisbon"
    )
    ProfileLink.objects.create(profile=profile, label="Blog", url="https://alice.example/")
    ProfileAccount.objects.create(profile=profile, service="github", url="https://github.com/a")
    return profile


def test_a_published_profile_answers_for_both_digests_and_the_slug(personas, published):
    address = personas.alice_address
    for found in (
        profile_public(digest=address.md5),
        profile_public(digest=address.sha256),
        profile_public(slug="ALICE"),
    ):
        assert found is not None
        assert (found.slug, found.location, found.address.md5) == ("alice", "Lisbon", address.md5)
        assert [link.url for link in found.links] == ["https://alice.example/"]
        assert [(a.service, a.verified) for a in found.accounts] == [("github", False)]
        assert found.emails == ()  # no address is published unless opted in
        assert "slug-alice" in found.keys and address.sha256 in found.keys


def test_private_cases_all_answer_none(personas, published):
    digest = personas.alice_address.md5
    assert profile_public(digest="0" * 32) is None
    assert profile_public(digest=personas.bob_address.md5) is None  # unverified
    assert profile_public(slug="nobody") is None
    for change in (
        {"published": False},
        {"hidden": True},
    ):
        Profile.objects.filter(pk=published.pk).update(**change)
        assert profile_public(digest=digest) is None
        assert profile_public(slug="alice") is None
        Profile.objects.filter(pk=published.pk).update(published=True, hidden=False)
    personas.alice.is_active = False
    personas.alice.save()
    assert profile_public(digest=digest) is None
    assert profile_public(slug="alice") is None


def test_only_chosen_verified_addresses_show_the_profile(personas, published):
    second = address_confirm(
        address=Address.objects.create(owner=personas.alice, email="work@example.com")
    )
    assert profile_public(digest=second.md5) is None  # default: the primary only
    AddressChoice.objects.create(address=second, shows_profile=True, email_published=True)
    found = profile_public(digest=second.sha256)
    assert found is not None and found.address.sha256 == second.sha256
    assert found.emails == (("work@example.com", False),)
    AddressChoice.objects.create(address=personas.alice_address, shows_profile=False)
    assert profile_public(digest=personas.alice_address.md5) is None
    slug_answer = profile_public(slug="alice")
    assert slug_answer is not None and slug_answer.address.md5 == second.md5
    AddressChoice.objects.filter(address=second).update(shows_profile=False)
    assert profile_public(slug="alice") is None  # it would have to name a hidden address


def test_an_old_slug_redirects_for_a_while(published):
    OldSlug.objects.create(slug="alice-old", profile=published, retired_at=timezone.now())
    moved = slug_redirect_profile("alice-old")
    assert moved is not None and moved.slug == "alice"
    OldSlug.objects.filter(slug="alice-old").update(retired_at=timezone.now() - timedelta(days=31))
    assert slug_redirect_profile("alice-old") is None


def test_the_owners_preview_shows_the_profile_whatever_the_switch(personas):
    from profiles.selectors import profile_preview

    empty = profile_preview(user=personas.charlie)  # no profile, no address yet: nothing saved
    assert (empty.slug, empty.links, empty.keys) == ("", (), ())
    assert not Profile.objects.exists()
    profile = Profile.objects.create(user=personas.alice, published=False, location="Oxford")
    ProfileLink.objects.create(profile=profile, label="Blog", url="https://alice.example/")
    Profile.objects.filter(pk=profile.pk).update(hidden=True)
    preview = profile_preview(user=personas.alice)
    assert (preview.location, [link.label for link in preview.links]) == ("Oxford", ["Blog"])
    assert preview.address.sha256 == personas.alice_address.sha256
    assert profile_public(digest=personas.alice_address.sha256) is None
