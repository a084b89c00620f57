"""An image in the library: rating, description, addresses, preview and deletion."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from avatars.models import Address, Avatar, ModerationState
from avatars.services import address_add, address_confirm, avatar_store
from tests.conftest import CommittingClient, decode, image_bytes, stored_files

pytestmark = pytest.mark.django_db


def edit(client, avatar, **fields):
    payload = {"rating": "g", "alt_text": "", "addresses": [], **fields}
    return client.post(f"/account/avatars/{avatar.pk}/", payload)


def test_it_shows_the_image_at_several_sizes_with_its_settings(alice_client, personas):
    page = alice_client.get(f"/account/avatars/{personas.alice_avatar.pk}/").content.decode()
    for edge in (32, 80, 160):
        assert f'width="{edge}"' in page
    assert 'value="g"' in page and "checked" in page


def test_it_saves_rating_and_text_and_purges_the_hashes(alice_client, personas, queued_purges):
    avatar = personas.alice_avatar
    edit(alice_client, avatar, rating="r", alt_text="Me", addresses=[personas.alice_address.pk])
    avatar.refresh_from_db()
    assert (avatar.rating, avatar.alt_text) == ("r", "Me")
    assert personas.alice_address.md5 in queued_purges()


def test_it_moves_the_image_between_addresses(alice_client, personas, queued_purges):
    work = address_confirm(address=address_add(user=personas.alice, email="work@example.com"))
    edit(alice_client, personas.alice_avatar, addresses=[work.pk])
    work.refresh_from_db()
    personas.alice_address.refresh_from_db()
    assert work.avatar == personas.alice_avatar
    assert personas.alice_address.avatar is None
    assert {work.sha256, personas.alice_address.sha256} <= queued_purges()


def test_lowering_an_approved_rating_sends_the_image_back_for_review(alice_client, personas):
    avatar = personas.alice_avatar
    Avatar.objects.filter(pk=avatar.pk).update(state=ModerationState.APPROVED, rating="r")
    edit(alice_client, avatar, rating="g", addresses=[personas.alice_address.pk])
    avatar.refresh_from_db()
    assert (avatar.rating, avatar.state) == ("g", ModerationState.NEW)


def test_a_rejected_image_stays_rejected_whatever_the_owner_edits(alice_client, personas):
    avatar = personas.alice_avatar
    Avatar.objects.filter(pk=avatar.pk).update(state=ModerationState.REJECTED)
    edit(alice_client, avatar, rating="x")
    avatar.refresh_from_db()
    assert avatar.state == ModerationState.REJECTED
    page = alice_client.get(f"/account/avatars/{avatar.pk}/").content.decode()
    assert "Rejected by a moderator" in page


def test_delete_removes_the_files_and_the_assignment(
    alice_client, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(f"/account/avatars/{personas.alice_avatar.pk}/delete/")
    assert response["Location"] == "/account/"
    assert not Avatar.objects.exists()
    assert Address.objects.get(pk=personas.alice_address.pk).avatar is None
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_the_preview_is_for_its_owner_and_moderators_only(alice_client, personas, db):
    from accounts.models import User

    url = f"/account/avatars/{personas.alice_avatar.pk}/preview/"
    response = alice_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert decode(response.content).size == (256, 256)
    assert "private" in response["Cache-Control"]
    bob = CommittingClient()
    bob.force_login(personas.bob)
    assert bob.get(url).status_code == 404
    staff = CommittingClient()
    staff.force_login(User.objects.create_user("mod@example.com", is_staff=True))
    assert staff.get(url).status_code == 200


def test_nobody_edits_or_deletes_someone_elses_image(bob_client, personas):
    pk = personas.alice_avatar.pk
    assert bob_client.get(f"/account/avatars/{pk}/").status_code == 404
    assert edit(bob_client, personas.alice_avatar, rating="x").status_code == 404
    assert bob_client.post(f"/account/avatars/{pk}/delete/").status_code == 404
    assert Avatar.objects.filter(pk=pk, rating="g").exists()


def test_the_library_shows_every_image_of_the_account(alice_client, personas):
    second = avatar_store(owner=personas.alice, data=image_bytes())
    page = alice_client.get("/account/").content.decode()
    assert f"/account/avatars/{second.pk}/" in page
    assert f"/account/avatars/{personas.alice_avatar.pk}/" in page
