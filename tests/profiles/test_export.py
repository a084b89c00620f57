"""The data export holds the profile (through avatars.hooks), and account deletion takes the
profile with it and purges its slug at the edge."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.utils import timezone

from profiles.models import AddressChoice, OldSlug, Profile, ProfileAccount, ProfileLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def profile(personas):
    profile = Profile.objects.create(
        user=personas.alice, slug="alice", published=True, location="Oxford", about_me="Hi <b>"
    )
    ProfileLink.objects.create(profile=profile, label="Blog", url="https://alice.example/")
    ProfileAccount.objects.create(
        profile=profile,
        service="github",
        url="https://github.com/alice",
        verified_at=timezone.now(),
        checked_at=timezone.now(),
        check_message="Verified",
    )
    AddressChoice.objects.create(
        address=personas.alice_address, shows_profile=True, email_published=True
    )
    OldSlug.objects.create(slug="old-alice", profile=profile, retired_at=timezone.now())
    return profile


def exported(client):
    response = client.post("/account/export/")
    return json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("account.json"))


def test_the_export_holds_the_profile(alice_client, profile):
    data = exported(alice_client)["profile"]
    assert (data["published"], data["slug"], data["location"], data["about_me"]) == (
        True,
        "alice",
        "Oxford",
        "Hi <b>",
    )
    assert data["links"] == [{"label": "Blog", "url": "https://alice.example/"}]
    [account] = data["accounts"]
    assert (account["service"], account["verified"], account["check_message"]) == (
        "github",
        True,
        "Verified",
    )
    assert account["verified_at"] and account["checked_at"]
    assert data["addresses"] == [
        {"email": "alice@example.com", "shows_profile": True, "email_published": True}
    ]
    assert [old["slug"] for old in data["old_slugs"]] == ["old-alice"]


def test_an_account_without_a_profile_exports_none(bob_client):
    assert exported(bob_client)["profile"] is None


def test_deleting_the_account_removes_the_profile_and_purges_its_slug(
    alice_client, personas, profile, queued_purges
):
    response = alice_client.post("/account/delete/", {"confirm": "alice@example.com"})
    assert response["Location"] == "/"
    assert not Profile.objects.exists()
    assert not ProfileLink.objects.exists() and not ProfileAccount.objects.exists()
    assert not OldSlug.objects.exists() and not AddressChoice.objects.exists()
    assert {"slug-alice", personas.alice_address.sha256} <= queued_purges()
