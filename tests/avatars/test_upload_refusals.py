"""Hostile files through the upload form: a refusal the person reads, never a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from avatars.models import Avatar
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["huge-iccp.png", "huge-ztxt.png"])
def test_a_png_with_an_oversized_metadata_chunk_is_refused_in_the_page(name):
    client = Client()
    client.force_login(User.objects.create_user("uploader@example.com"))
    data = (FIXTURES / "hostile" / name).read_bytes()
    response = client.post(
        "/account/avatars/upload/",
        {"image": SimpleUploadedFile(name, data), "rating": "g", "alt_text": ""},
    )
    assert response.status_code == 200
    assert "colour profile or text block too large to read" in response.content.decode()
    assert not Avatar.objects.exists()
