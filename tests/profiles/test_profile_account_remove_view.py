"""Removing an account elsewhere: only the owner's own, and the profile is purged."""

from __future__ import annotations

import pytest

from profiles.models import Profile, ProfileAccount

pytestmark = pytest.mark.django_db


def test_the_owner_removes_an_account(alice_client, personas, queued_purges):
    account = ProfileAccount.objects.create(
        profile=Profile.objects.create(user=personas.alice), service="github", url="https://g/a"
    )
    response = alice_client.post(f"/account/profile/accounts/{account.pk}/remove/")
    assert response["Location"] == "/account/profile/#accounts"
    assert not ProfileAccount.objects.exists()
    assert personas.alice_address.sha256 in queued_purges()


def test_someone_elses_account_is_not_found(bob_client, personas):
    account = ProfileAccount.objects.create(
        profile=Profile.objects.create(user=personas.alice), service="github", url="https://g/a"
    )
    assert bob_client.post(f"/account/profile/accounts/{account.pk}/remove/").status_code == 404
    assert ProfileAccount.objects.exists()
