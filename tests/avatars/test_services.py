"""The workflows: add and verify an address, store an upload, assign an avatar."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from accounts.models import User
from avatars.imaging.decode import UploadRejected
from avatars.imaging.square import CropBox
from avatars.models import Address, Avatar, ModerationState
from avatars.services import (
    AddressTaken,
    UploadChoices,
    address_add,
    address_confirm,
    atomic_with_files,
    avatar_assign,
    avatar_delete,
    avatar_store,
    avatar_upload,
)
from tests.conftest import decode, image_bytes, stored_files
from tests.personas import Personas
from tests.pixels import pixel

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return User.objects.create_user("alice@example.com")


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def test_address_add_is_unverified_and_idempotent(alice):
    first = address_add(user=alice, email="Alice@Example.com ")
    again = address_add(user=alice, email="alice@example.com")
    assert first.pk == again.pk
    assert first.verified_at is None


def test_address_add_refuses_an_address_verified_elsewhere(alice):
    bob = User.objects.create_user("bob@example.com")
    address_confirm(address=address_add(user=bob, email="shared@example.com"))
    with pytest.raises(AddressTaken):
        address_add(user=alice, email="SHARED@example.com")


def test_address_add_refuses_a_malformed_address(alice):
    with pytest.raises(ValidationError):
        address_add(user=alice, email="not an address")
    assert not Address.objects.exists()


def test_verifying_the_first_address_makes_it_primary(alice):
    first = address_confirm(address=address_add(user=alice, email="one@example.com"))
    second = address_confirm(address=address_add(user=alice, email="two@example.com"))
    assert first.is_primary and not second.is_primary
    assert first.verified_at is not None


def test_verifying_a_claimed_address_fails_when_someone_proved_it_first(alice):
    bob = User.objects.create_user("bob@example.com")
    alices_claim = address_add(user=alice, email="shared@example.com")
    address_confirm(address=address_add(user=bob, email="shared@example.com"))
    with pytest.raises(AddressTaken):
        address_confirm(address=alices_claim)
    alices_claim.refresh_from_db()
    assert alices_claim.verified_at is None


def test_store_crops_a_centred_square_master_and_a_small_preview(alice):
    data = image_bytes((600, 400), (10, 200, 10))
    avatar = avatar_store(owner=alice, data=data, rating="pg", alt_text="green")
    assert (avatar.size, avatar.format, avatar.rating, avatar.state) == (
        400,
        "JPEG",
        "pg",
        ModerationState.NEW,
    )
    master = decode(default_storage.open(avatar.master.name).read())
    preview = decode(default_storage.open(avatar.preview.name).read())
    assert master.size == (400, 400) and master.format == "JPEG"
    assert preview.size == (256, 256)
    assert len(avatar.digest) == 64


def test_store_keeps_transparency_as_png(alice):
    data = image_bytes((100, 100), (0, 0, 255, 100), fmt="PNG", mode="RGBA")
    avatar = avatar_store(owner=alice, data=data)
    master = decode(default_storage.open(avatar.master.name).read())
    assert (avatar.format, master.mode) == ("PNG", "RGBA")
    assert pixel(master, (50, 50))[3] == 100


def test_store_applies_a_crop_box(alice):
    import io

    from PIL import Image

    canvas = Image.new("RGB", (200, 100), (255, 0, 0))
    canvas.paste((0, 0, 255), (100, 0, 200, 100))
    out = io.BytesIO()
    canvas.save(out, "PNG")
    avatar = avatar_store(owner=alice, data=out.getvalue(), crop=CropBox(left=100, top=0, edge=100))
    master = decode(default_storage.open(avatar.master.name).read())
    red, green, blue = pixel(master.convert("RGB"), (50, 50))
    assert blue > 200 and red < 50


def test_store_refuses_a_non_image_and_writes_nothing(alice):
    with pytest.raises(UploadRejected, match="not an image"):
        avatar_store(owner=alice, data=b"%PDF-1.4 definitely not a picture")
    assert not Avatar.objects.exists()
    assert stored_files(media_root()) == []


def test_store_refuses_a_bad_rating_and_writes_nothing(alice):
    with pytest.raises(ValidationError):
        avatar_store(owner=alice, data=image_bytes(), rating="nc17")
    assert not Avatar.objects.exists()
    assert stored_files(media_root()) == []


def test_assign_shows_the_avatar_for_the_owners_addresses(alice):
    address = address_confirm(address=address_add(user=alice, email="alice@example.com"))
    avatar = avatar_store(owner=alice, data=image_bytes())
    avatar_assign(avatar=avatar, addresses=[address])
    address.refresh_from_db()
    assert address.avatar == avatar


def test_assign_refuses_someone_elses_address(alice):
    bob = User.objects.create_user("bob@example.com")
    bobs = address_add(user=bob, email="bob@example.com")
    avatar = avatar_store(owner=alice, data=image_bytes())
    with pytest.raises(PermissionError):
        avatar_assign(avatar=avatar, addresses=[bobs])
    bobs.refresh_from_db()
    assert bobs.avatar is None


def test_delete_removes_the_files_and_unassigns(alice, django_capture_on_commit_callbacks):
    address = address_confirm(address=address_add(user=alice, email="alice@example.com"))
    avatar = avatar_store(owner=alice, data=image_bytes())
    avatar_assign(avatar=avatar, addresses=[address])
    with django_capture_on_commit_callbacks(execute=True):
        avatar_delete(avatar=avatar)
    address.refresh_from_db()
    assert address.avatar is None
    assert stored_files(media_root()) == []


def test_a_failed_block_of_atomic_with_files_leaves_neither_rows_nor_files():
    with pytest.raises(RuntimeError), atomic_with_files() as written:
        written.append(default_storage.save("avatars/x/master.png", ContentFile(image_bytes())))
        User.objects.create_user("bob@example.com")
        raise RuntimeError("a later step failed")

    assert stored_files(media_root()) == []
    assert not User.objects.filter(email="bob@example.com").exists()


def test_a_successful_block_of_atomic_with_files_keeps_both():
    with atomic_with_files() as written:
        written.append(default_storage.save("avatars/x/master.png", ContentFile(image_bytes())))
        User.objects.create_user("bob@example.com")

    assert stored_files(media_root()) == [media_root() / "avatars/x/master.png"]
    assert User.objects.filter(email="bob@example.com").exists()


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


def save_file(name: str) -> str:
    return default_storage.save(f"avatars/x/{name}.png", ContentFile(image_bytes()))


def test_a_nested_block_loses_its_files_when_the_outer_block_fails_later():
    with pytest.raises(RuntimeError), atomic_with_files() as outer:
        outer.append(save_file("outer"))
        with atomic_with_files() as inner, atomic_with_files() as innermost:
            inner.append(save_file("inner"))
            innermost.append(save_file("innermost"))
        raise RuntimeError("a later step of the outer block failed")

    assert stored_files(media_root()) == []


def test_a_nested_block_loses_its_files_when_a_savepoint_around_it_rolls_back():
    with atomic_with_files() as outer:
        outer.append(save_file("outer"))
        try:
            with transaction.atomic():
                with atomic_with_files() as inner:
                    inner.append(save_file("inner"))
                    User.objects.create_user("bob@example.com")
                raise RuntimeError("a step after the inner block failed; the outer goes on")
        except RuntimeError:
            pass

    assert stored_files(media_root()) == [media_root() / "avatars/x/outer.png"]
    assert not User.objects.filter(email="bob@example.com").exists()


def test_a_savepoint_rolled_back_two_levels_down_loses_only_its_files():
    with atomic_with_files() as outer:
        outer.append(save_file("outer"))
        with atomic_with_files() as middle:
            middle.append(save_file("middle"))
            with contextlib.suppress(RuntimeError), transaction.atomic():
                with atomic_with_files() as inner:
                    inner.append(save_file("inner"))
                raise RuntimeError("a step after the inner block failed")

    assert stored_files(media_root()) == [
        media_root() / "avatars/x/middle.png",
        media_root() / "avatars/x/outer.png",
    ]


def test_nested_blocks_that_succeed_keep_every_file():
    with atomic_with_files() as outer:
        outer.append(save_file("outer"))
        with atomic_with_files() as inner:
            inner.append(save_file("inner"))

    assert stored_files(media_root()) == [
        media_root() / "avatars/x/inner.png",
        media_root() / "avatars/x/outer.png",
    ]
