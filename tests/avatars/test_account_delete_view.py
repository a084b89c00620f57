"""Delete my account: the account, its addresses and images (files included) go."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from accounts.models import User
from avatars.models import Address, Avatar
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db


def test_deletion_needs_the_address_typed(alice_client, personas):
    response = alice_client.post("/account/delete/", {"confirm": "someone@example.com"})
    assert "That is not your sign-in address." in response.content.decode()
    assert User.objects.filter(pk=personas.alice.pk).exists()


def test_deletion_removes_the_account_its_addresses_and_images(
    alice_client, personas, queued_purges, django_capture_on_commit_callbacks
):
    master = personas.alice_avatar.master.name
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post("/account/delete/", {"confirm": " Alice@example.com "})
    assert response["Location"] == "/"
    assert not User.objects.filter(pk=personas.alice.pk).exists()
    assert not Address.objects.filter(owner_id=personas.alice.pk).exists()
    assert not Avatar.objects.filter(owner_id=personas.alice.pk).exists()
    assert not default_storage.exists(master)
    assert stored_files(Path(settings.MEDIA_ROOT)) == []
    assert personas.alice_address.sha256 in queued_purges()
    assert alice_client.get("/account/").status_code == 302  # signed out
