"""Download my data: a zip of the account as JSON and its images."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.conftest import decode

pytestmark = pytest.mark.django_db


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
