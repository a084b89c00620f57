"""Profile and privacy, the data export and account deletion."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from accounts.models import User
from avatars.models import Address, Avatar
from tests.conftest import decode, stored_files

pytestmark = pytest.mark.django_db


def test_it_saves_the_display_name_and_privacy_choices(alice_client, personas, queued_purges):
    response = alice_client.post(
        "/account/profile/",
        {"display_name": "Alice Liddell", "display_name_public": "on", "hide_avatar": "on"},
    )
    assert response["Location"] == "/account/profile/"
    alice = User.objects.get(pk=personas.alice.pk)
    assert (alice.display_name, alice.display_name_public, alice.hide_avatar) == (
        "Alice Liddell",
        True,
        True,
    )
    assert {personas.alice_address.md5, personas.alice_address.sha256} <= queued_purges()


def test_saving_unchanged_choices_purges_nothing(alice_client, personas, queued_purges):
    alice_client.post("/account/profile/", {"display_name": ""})
    assert queued_purges() == set()


def test_the_export_is_a_zip_of_json_and_images(alice_client, personas):
    response = alice_client.post("/account/export/")
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("account.json"))
    assert data["account"]["email"] == "alice@example.com"
    assert data["addresses"][0]["sha256"] == personas.alice_address.sha256
    entry = data["avatars"][0]
    image = decode(archive.read(entry["file"]))
    assert image.size == (400, 400)


def test_the_export_is_a_post(alice_client):
    assert alice_client.get("/account/export/").status_code == 405


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
