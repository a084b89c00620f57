"""Which verified addresses show the profile and which are published (AddressChoice)."""

from __future__ import annotations

import pytest

from avatars.models import Address, PurgeRequest
from avatars.services import address_confirm
from profiles.models import AddressChoice, Profile
from profiles.selectors import profile_public

pytestmark = pytest.mark.django_db

URL = "/account/profile/addresses/"


@pytest.fixture
def work(personas):
    Profile.objects.create(user=personas.alice, slug="alice", published=True)
    return address_confirm(
        address=Address.objects.create(owner=personas.alice, email="work@example.com")
    )


def test_the_editor_shows_the_default_choices(alice_client, personas, work):
    page = alice_client.get("/account/profile/").content.decode()
    primary = f'name="shown" value="{personas.alice_address.pk}" checked'
    assert primary in page
    assert f'name="shown" value="{work.pk}">' in page  # only the primary by default
    assert f'name="published" value="{work.pk}">' in page


def test_the_owner_chooses_per_address(alice_client, personas, work, queued_purges):
    response = alice_client.post(URL, {"shown": [work.pk], "published": [work.pk]})
    assert response["Location"] == "/account/profile/#addresses"
    assert profile_public(digest=personas.alice_address.md5) is None
    public = profile_public(digest=work.sha256)
    assert public is not None and public.emails == (("work@example.com", False),)
    assert {personas.alice_address.md5, work.sha256, "slug-alice"} <= queued_purges()


def test_saving_the_same_choices_again_purges_nothing(alice_client, personas, work, queued_purges):
    alice_client.post(URL, {"shown": [personas.alice_address.pk]})
    assert queued_purges() != set()
    PurgeRequest.objects.all().delete()
    alice_client.post(URL, {"shown": [personas.alice_address.pk]})
    assert queued_purges() == set()


def test_an_address_of_someone_else_or_unverified_is_refused(alice_client, personas, work):
    response = alice_client.post(URL, {"shown": [personas.bob_address.pk]})
    assert "Select a valid choice" in response.content.decode()
    assert not AddressChoice.objects.exists()
