"""Removing a link: only the owner's own, and the profile is purged."""

from __future__ import annotations

import pytest

from profiles.models import Profile, ProfileLink

pytestmark = pytest.mark.django_db


def test_the_owner_removes_a_link(alice_client, personas, queued_purges):
    link = ProfileLink.objects.create(
        profile=Profile.objects.create(user=personas.alice, slug="alice"),
        label="Blog",
        url="https://alice.example/",
    )
    response = alice_client.post(f"/account/profile/links/{link.pk}/remove/")
    assert response["Location"] == "/account/profile/#links"
    assert not ProfileLink.objects.exists()
    assert {"slug-alice", personas.alice_address.md5} <= queued_purges()


def test_someone_elses_link_is_not_found(bob_client, personas):
    link = ProfileLink.objects.create(
        profile=Profile.objects.create(user=personas.alice), label="Blog", url="https://a.example/"
    )
    assert bob_client.post(f"/account/profile/links/{link.pk}/remove/").status_code == 404
    assert bob_client.get(f"/account/profile/links/{link.pk}/remove/").status_code == 405
    assert ProfileLink.objects.exists()
