"""The owner's services: one transaction each, nothing written on bad input, every change
purged with the slugs it freed or claimed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from profiles import rules
from profiles.models import OldSlug, Profile, ProfileLink
from profiles.selectors import profile_public, slug_redirect_profile
from profiles.services import (
    ProfileFields,
    profile_edit,
    profile_link_add,
    service_detect,
)

pytestmark = pytest.mark.django_db


def edit(user, *, slug="", published=False, display_name="", **fields):
    return profile_edit(
        user=user,
        fields=ProfileFields(**fields),
        slug=slug,
        published=published,
        display_name=display_name,
        display_name_public=False,
        hide_avatar=False,
    )


def test_a_slug_claimed_in_a_race_is_taken_and_nothing_is_written(personas):
    # The check reads lower-case slugs; a row the check cannot see (as if committed by another
    # request after it ran) is refused by the Lower(slug) unique index instead.
    Profile.objects.create(user=personas.bob, slug="RACE")
    with pytest.raises(ValidationError) as refused:
        edit(personas.alice, slug="race", display_name="Alice", location="Oxford")
    assert refused.value.message_dict == {"slug": ["This address is taken; try another."]}
    assert User.objects.get(pk=personas.alice.pk).display_name == ""
    assert not Profile.objects.filter(location="Oxford").exists()


def test_a_changed_slug_redirects_then_is_free_for_others(personas, queued_purges):
    edit(personas.alice, slug="alice", published=True)
    edit(personas.alice, slug="wonder", published=True)
    moved = slug_redirect_profile("alice")
    assert moved is not None and moved.slug == "wonder"
    assert {"slug-alice", "slug-wonder"} <= queued_purges()
    with pytest.raises(ValidationError, match="taken"):
        edit(personas.bob, slug="alice")
    OldSlug.objects.update(retired_at=timezone.now() - rules.OLD_SLUG_REDIRECT - timedelta(1))
    edit(personas.bob, slug="alice")
    assert Profile.objects.get(user=personas.bob).slug == "alice"
    assert not OldSlug.objects.exists()  # claimed again: no longer an old slug


def test_the_owner_can_take_an_old_slug_back(personas):
    edit(personas.alice, slug="alice", published=True)
    edit(personas.alice, slug="wonder", published=True)
    edit(personas.alice, slug="alice", published=True)
    assert list(OldSlug.objects.values_list("slug", flat=True)) == ["wonder"]
    assert profile_public(slug="alice") is not None


def test_clearing_the_slug_unpublishes_nothing_silently(personas):
    edit(personas.alice, slug="alice", published=True)
    with pytest.raises(ValidationError, match="before publishing"):
        edit(personas.alice, slug="", published=True)
    edit(personas.alice, slug="", published=False)
    assert Profile.objects.get(user=personas.alice).slug is None
    assert OldSlug.objects.get().slug == "alice"


def test_every_change_purges_the_profile_and_an_unchanged_one_nothing(personas, queued_purges):
    edit(personas.alice, slug="alice", location="Oxford")
    assert {"slug-alice", personas.alice_address.sha256} <= queued_purges()
    from avatars.models import PurgeRequest

    PurgeRequest.objects.all().delete()
    edit(personas.alice, slug="alice", location="Oxford")
    assert queued_purges() == set()


def test_the_link_limit_holds(personas):
    for n in range(rules.LINKS_MAX):
        profile_link_add(user=personas.alice, label="", url=f"https://{n}.example/")
    with pytest.raises(ValidationError, match="at most 10 links"):
        profile_link_add(user=personas.alice, label="", url="https://x.example/")
    assert ProfileLink.objects.count() == rules.LINKS_MAX


@pytest.mark.parametrize(
    ("url", "service"),
    [
        ("https://github.com/a", "github"),
        ("https://gitlab.com/a", "gitlab"),
        ("https://codeberg.org/a", "codeberg"),
        ("https://stackoverflow.com/users/1", "stackoverflow"),
        ("https://linkedin.com/in/a", "linkedin"),
        ("https://hachyderm.io/@a", "mastodon"),
        ("https://example.com/@", "website"),
        ("https://notgithub.com/a", "website"),
    ],
)
def test_services_are_recognised_by_host(url, service):
    assert service_detect(url) == service
