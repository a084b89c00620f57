"""The account workflows where a page cannot reach the failure: a refused step rolls back
everything before it, files included."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from accounts.services import UploadChoices, avatar_upload
from avatars.models import Avatar
from tests.conftest import image_bytes, stored_files
from tests.personas import Personas


def test_an_upload_assigned_to_someone_elses_address_keeps_no_avatar_and_no_files(
    personas: Personas,
):
    files_before = stored_files(Path(settings.MEDIA_ROOT))
    avatars_before = Avatar.objects.count()

    with pytest.raises(PermissionError):
        avatar_upload(
            owner=personas.alice,
            choices=UploadChoices(),
            data=image_bytes(),
            addresses=[personas.bob_address],
        )

    assert Avatar.objects.count() == avatars_before
    assert stored_files(Path(settings.MEDIA_ROOT)) == files_before
