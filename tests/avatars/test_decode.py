"""Hostile uploads from tests/fixtures/hostile/ (made by tests/fixtures/make_fixtures.py):
each is refused with a message a person understands, or comes out clean and upright."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from avatars.imaging.decode import Limits, UploadRejected, decode_upload
from tests.conftest import FIXTURES

HOSTILE = FIXTURES / "hostile"


def fixture(name: str) -> bytes:
    return (HOSTILE / name).read_bytes()


def close(colour: tuple[int, ...], expected: tuple[int, int, int], slack: int = 20) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(colour[:3], expected, strict=True))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bomb.png", "dimensions are far too large"),
        ("huge-dimensions.png", "10000 x 6000 pixels; the limit is 50 megapixels"),
        ("bmp-named.png", "BMP images are not accepted"),
        ("truncated.jpg", "truncated or corrupt"),
        ("corrupt.png", "truncated or corrupt"),
        ("not-an-image.jpg", "not an image we can read"),
        ("svg-named.png", "not an image we can read"),
        ("empty.jpg", "The file is empty"),
        ("huge-iccp.png", "colour profile or text block too large to read"),
        ("huge-ztxt.png", "colour profile or text block too large to read"),
    ],
)
def test_it_refuses_with_a_message(name, message):
    with pytest.raises(UploadRejected, match=message):
        decode_upload(fixture(name))


def test_the_bomb_is_refused_from_its_header_before_any_decoding():
    data = fixture("bomb.png")
    assert len(data) < 100
    assert struct.unpack(">II", data[16:24]) == (100_000, 100_000)  # 10 gigapixels declared
    with pytest.raises(UploadRejected):
        decode_upload(data)


@pytest.mark.parametrize("name", ["huge-iccp.png", "huge-ztxt.png"])
def test_a_metadata_bomb_is_refused_as_it_opens(name):
    # Pillow refuses to inflate such a chunk with a bare ValueError, which would answer 500.
    data = fixture(name)
    assert len(data) < 20_000 and b"IDAT" in data[data.index(b"IHDR") + 40 :]
    with pytest.raises(UploadRejected, match="save it again without metadata"):
        decode_upload(data)


def test_the_pixel_cap_applies_before_decoding():
    # The huge image has one short row of real data: decoding it would fail as truncated,
    # so the pixel message proves the cap came first.
    with pytest.raises(UploadRejected, match="megapixels"):
        decode_upload(fixture("huge-dimensions.png"))


def test_a_lower_cap_from_settings_is_honoured():
    with pytest.raises(UploadRejected, match="the limit is 0 megapixels"):
        decode_upload(fixture("cmyk.jpg"), Limits(max_pixels=1000))


def test_the_size_limit_is_checked_first():
    with pytest.raises(UploadRejected, match="the limit is 10 MB"):
        decode_upload(b"\xff\xd8" + b"\0" * (10 * 1024 * 1024))


def test_the_content_decides_not_the_name():
    image = decode_upload(fixture("png-named.jpg"))
    assert close(image.getpixel((8, 8)), (20, 200, 40))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(orientation):
    image = decode_upload(fixture(f"orientation-{orientation}.jpg"))
    assert image.size == (60, 30)
    assert close(image.getpixel((3, 3)), (220, 20, 20))  # red square back at the top left
    assert close(image.getpixel((57, 27)), (20, 40, 220))


def test_all_metadata_is_dropped_gps_included():
    source = Image.open(io.BytesIO(fixture("gps.jpg")))
    assert source.getexif().get_ifd(0x8825)  # the fixture really carries a location
    image = decode_upload(fixture("gps.jpg"))
    assert not image.getexif()
    assert image.info == {}


def test_stored_files_carry_no_metadata(db):
    from django.core.files.storage import default_storage

    from accounts.models import User
    from avatars.services import avatar_store

    owner = User.objects.create_user("gps@example.com")
    avatar = avatar_store(owner=owner, data=fixture("gps.jpg"))
    for name in (avatar.master.name, avatar.preview.name):
        stored = Image.open(default_storage.open(name))
        assert not stored.getexif()
        assert "comment" not in stored.info and "exif" not in stored.info


def test_cmyk_becomes_rgb_with_the_right_colour():
    image = decode_upload(fixture("cmyk.jpg"))
    assert image.mode == "RGB"
    assert close(image.getpixel((20, 20)), (0, 255, 0), slack=30)


def test_a_palette_with_transparency_keeps_it_as_rgba():
    image = decode_upload(fixture("palette-transparent.png"))
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0
    assert close(image.getpixel((16, 16)), (220, 20, 20))


def test_sixteen_bit_grey_keeps_its_tone():
    image = decode_upload(fixture("gray16.png"))
    assert image.mode == "RGB"
    assert close(image.getpixel((5, 5)), (156, 156, 156), slack=2)


@pytest.mark.parametrize("name", ["animated.gif", "animated.webp"])
def test_animations_become_their_first_frame(name):
    image = decode_upload(fixture(name))
    assert not getattr(image, "is_animated", False)
    assert close(image.getpixel((16, 16)), (220, 20, 20))


def test_heic_is_read_through_the_plugin():
    image = decode_upload(fixture("photo.heic"))
    assert image.size == (48, 32)
    assert close(image.getpixel((24, 16)), (20, 40, 220), slack=25)


def test_avif_is_read():
    image = decode_upload(fixture("photo.avif"))
    assert image.size == (48, 32)
    assert close(image.getpixel((24, 16)), (20, 200, 40), slack=25)


def test_the_fixtures_are_what_the_script_makes():
    from tests.fixtures.make_fixtures import FIXTURES as MADE

    assert {path.name for path in HOSTILE.iterdir()} == set(MADE)
