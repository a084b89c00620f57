"""`manage.py setavatar EMAIL IMAGE`: the administrators' import."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from accounts.models import User
from avatars.models import Address, Avatar, ModerationState
from tests.conftest import FIXTURES, decode, image_bytes, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(image_bytes((640, 480), (200, 100, 50)))
    return path


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("setavatar", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_account_verifies_and_assigns(photo):
    output = run("New.Person@Example.com", str(photo), "--rating", "pg", "--alt", "A portrait")
    user = User.objects.get(email="new.person@example.com")
    address = Address.objects.get(owner=user)
    assert address.verified_at is not None and address.is_primary
    assert address.avatar is not None
    assert (address.avatar.rating, address.avatar.alt_text) == ("pg", "A portrait")
    assert address.avatar.state == ModerationState.APPROVED
    assert decode(default_storage.open(address.avatar.master.name).read()).size == (480, 480)
    assert "new.person@example.com now shows avatar" in output


def test_running_it_again_replaces_the_avatar_and_its_files(
    photo, tmp_path, django_capture_on_commit_callbacks
):
    run("someone@example.com", str(photo))
    first = Address.objects.get().avatar
    second_photo = tmp_path / "second.png"
    second_photo.write_bytes(image_bytes((50, 50), (0, 0, 0), fmt="PNG"))
    with django_capture_on_commit_callbacks(execute=True):
        run("someone@example.com", str(second_photo))
    address = Address.objects.get()
    assert address.avatar != first
    assert Avatar.objects.count() == 1
    assert len(stored_files(Path(settings.MEDIA_ROOT))) == 2  # one master, one preview


def test_an_unreadable_image_is_a_clear_error_and_writes_nothing(tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("this is text, not a JPEG")
    with pytest.raises(CommandError, match="not an image we can read"):
        run("someone@example.com", str(bad))
    assert not User.objects.exists() and not Avatar.objects.exists()
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_a_png_with_an_oversized_metadata_chunk_is_a_clear_error_and_writes_nothing(tmp_path):
    bomb = tmp_path / "profile.png"
    bomb.write_bytes((FIXTURES / "hostile" / "huge-iccp.png").read_bytes())
    with pytest.raises(CommandError, match="colour profile or text block too large"):
        run("someone@example.com", str(bomb))
    assert not User.objects.exists() and not Avatar.objects.exists()
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run("someone@example.com", str(tmp_path / "missing.jpg"))


def test_a_bad_rating_is_a_clear_error(photo):
    with pytest.raises(CommandError, match="'nc17' is not a rating"):
        run("someone@example.com", str(photo), "--rating", "nc17")
    assert not User.objects.exists()
