"""Hostile uploads from tests/fixtures/hostile/ (made by tests/fixtures/make_fixtures.py):
each is refused with a message a person understands, or comes out clean and upright."""

from __future__ import annotations

import io
import math
import struct

import pytest
from PIL import Image, ImageChops

from avatars.imaging import square
from avatars.imaging.decode import (
    CORRUPT,
    EMPTY,
    FORMAT,
    METADATA,
    TOO_MANY_PIXELS,
    UNREADABLE,
    Limits,
    UploadRejected,
    decode_master,
    decode_upload,
)
from tests.conftest import FIXTURES, image_bytes
from tests.pixels import extrema, pixel

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


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bomb.png", TOO_MANY_PIXELS),
        ("huge-dimensions.png", TOO_MANY_PIXELS),
        ("bmp-named.png", FORMAT),
        ("truncated.jpg", CORRUPT),
        ("not-an-image.jpg", UNREADABLE),
        ("empty.jpg", EMPTY),
        ("huge-iccp.png", METADATA),
    ],
)
def test_each_refusal_names_its_reason_for_the_metrics(name, reason):
    with pytest.raises(UploadRejected) as refused:
        decode_upload(fixture(name))
    assert refused.value.reason == reason


def test_a_header_cut_short_is_refused_not_an_error():
    """Pillow raises a bare OSError while reading a JPEG header cut inside a segment."""
    with pytest.raises(UploadRejected, match="truncated or corrupt") as refused:
        decode_upload(image_bytes((120, 120))[:200])
    assert refused.value.reason == CORRUPT


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
    assert close(pixel(image, (8, 8)), (20, 200, 40))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(orientation):
    image = decode_upload(fixture(f"orientation-{orientation}.jpg"))
    assert image.size == (60, 30)
    assert close(pixel(image, (3, 3)), (220, 20, 20))  # red square back at the top left
    assert close(pixel(image, (57, 27)), (20, 40, 220))


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
    assert close(pixel(image, (20, 20)), (0, 255, 0), slack=30)


def test_a_palette_with_transparency_keeps_it_as_rgba():
    image = decode_upload(fixture("palette-transparent.png"))
    assert image.mode == "RGBA"
    assert pixel(image, (0, 0))[3] == 0
    assert close(pixel(image, (16, 16)), (220, 20, 20))


def test_sixteen_bit_grey_keeps_its_tone():
    image = decode_upload(fixture("gray16.png"))
    assert image.mode == "RGB"
    assert close(pixel(image, (5, 5)), (156, 156, 156), slack=2)


@pytest.mark.parametrize("name", ["animated.gif", "animated.webp"])
def test_animations_become_their_first_frame(name):
    image = decode_upload(fixture(name))
    assert not getattr(image, "is_animated", False)
    assert close(pixel(image, (16, 16)), (220, 20, 20))


def test_heic_is_read_through_the_plugin():
    image = decode_upload(fixture("photo.heic"))
    assert image.size == (48, 32)
    assert close(pixel(image, (24, 16)), (20, 40, 220), slack=25)


def test_avif_is_read():
    image = decode_upload(fixture("photo.avif"))
    assert image.size == (48, 32)
    assert close(pixel(image, (24, 16)), (20, 200, 40), slack=25)


def test_the_fixtures_are_what_the_script_makes():
    from tests.fixtures.make_fixtures import FIXTURES as MADE

    assert {path.name for path in HOSTILE.iterdir()} == set(MADE)


# decode_master: the master straight from the upload, the same as the full-size path


def reference_master(
    data: bytes, crop=None, quarter_turns: int = 0, limits: Limits | None = None
) -> Image.Image:
    """What avatar_store made before decode_master: everything at full size."""
    image = square.rotate_quarter_turns(decode_upload(data, limits or Limits()), quarter_turns)
    return square.make_square(image, crop)


def rms(one: Image.Image, other: Image.Image) -> float:
    assert (one.size, one.mode) == (other.size, other.mode)
    histogram = ImageChops.difference(one, other).histogram()
    squares = sum(count * (value % 256) ** 2 for value, count in enumerate(histogram))
    return math.sqrt(squares / (one.width * one.height * len(one.getbands())))


def marked(width: int, height: int) -> Image.Image:
    """Smooth gradients plus four coloured corners: any wrong turn, mirror or shift shows."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image = Image.merge(
        "RGB",
        (
            image.getchannel(0),
            image.getchannel(0).rotate(90),
            image.getchannel(0).transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        ),
    )
    corner = max(4, min(width, height) // 6)
    for colour, (x, y) in zip(
        [(230, 20, 20), (20, 230, 20), (20, 20, 230), (240, 240, 20)],
        [(0, 0), (width - corner, 0), (0, height - corner), (width - corner, height - corner)],
        strict=True,
    ):
        image.paste(colour, (x, y, x + corner, y + corner))
    return image


def jpeg_with_orientation(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


CROPS = [
    None,
    square.CropBox(left=0, top=0, edge=50),
    square.CropBox(left=37, top=11, edge=61),
    square.CropBox(left=500, top=-4, edge=9999),  # clamped into the image
]


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("turns", range(4))
@pytest.mark.parametrize("crop", CROPS)
def test_the_master_is_the_full_size_result_for_every_orientation_turn_and_crop(
    orientation, turns, crop
):
    data = jpeg_with_orientation(marked(160, 110), orientation)
    expected = reference_master(data, crop, turns)
    master = decode_master(data, crop=crop, quarter_turns=turns)
    assert master.size == expected.size
    assert rms(master, expected) < 1.0


@pytest.mark.parametrize(("orientation", "turns"), [(1, 0), (6, 1), (3, 3), (5, 2)])
@pytest.mark.parametrize("crop", [None, square.CropBox(left=900, top=350, edge=4500)])
def test_a_big_jpeg_decodes_at_a_reduced_scale_and_still_matches(orientation, turns, crop):
    data = jpeg_with_orientation(marked(5400, 4700), orientation)
    expected = reference_master(data, crop, turns)
    master = decode_master(data, crop=crop, quarter_turns=turns)
    assert master.size == expected.size == (2048, 2048)
    assert rms(master, expected) < 2.5  # the DCT's own downscale against LANCZOS


@pytest.mark.parametrize("crop", [None, square.CropBox(left=333, top=100, edge=2700)])
def test_a_big_png_is_resampled_in_bands_exactly_as_in_one_piece(crop):
    # Noise: a seam between bands, or a filter reaching past the crop, changes pixels.
    noisy = Image.blend(
        marked(3500, 2900), Image.effect_noise((3500, 2900), 80).convert("RGB"), 0.5
    )
    out = io.BytesIO()
    noisy.save(out, "PNG", compress_level=1)
    roomy = Limits(max_bytes=64 * 1024 * 1024)  # noise does not compress
    expected = reference_master(out.getvalue(), crop, limits=roomy)
    master = decode_master(out.getvalue(), roomy, crop=crop)
    assert master.size == (2048, 2048)
    assert max(high for _, high in extrema(ImageChops.difference(master, expected))) <= 1


@pytest.mark.parametrize(
    "name",
    [
        "palette-transparent.png",
        "gray16.png",
        "cmyk.jpg",
        "animated.gif",
        "animated.webp",
        "photo.heic",
        "photo.avif",
        "png-named.jpg",
        "orientation-6.jpg",
    ],
)
def test_every_kind_of_source_gives_the_same_master(name):
    expected = reference_master(fixture(name))
    master = decode_master(fixture(name))
    assert master.mode == expected.mode
    assert rms(master, expected) < 1.0


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "1", "P", "I;16"])
def test_modes_are_converted_like_the_full_size_path(mode):
    source = marked(300, 260).convert("RGBA")
    source.putalpha(Image.linear_gradient("L").resize((300, 260)))
    image = source.convert(mode) if mode != "I;16" else source.convert("L").convert("I;16")
    out = io.BytesIO()
    image.save(out, "PNG")
    expected = reference_master(out.getvalue(), square.CropBox(left=20, top=10, edge=200))
    master = decode_master(out.getvalue(), crop=square.CropBox(left=20, top=10, edge=200))
    assert master.mode == expected.mode
    assert rms(master, expected) < 1.0


def test_the_master_carries_no_metadata():
    master = decode_master(fixture("gps.jpg"))
    assert master.info == {}
    assert not master.getexif()


@pytest.mark.parametrize("name", ["truncated.jpg", "corrupt.png", "huge-iccp.png", "bomb.png"])
def test_the_master_refuses_what_decode_upload_refuses(name):
    with pytest.raises(UploadRejected) as full:
        decode_upload(fixture(name))
    with pytest.raises(UploadRejected) as master:
        decode_master(fixture(name))
    assert str(master.value) == str(full.value)


# Decoding runs on one lower-priority thread per process


def test_decoding_runs_one_at_a_time_on_a_lower_priority_thread():
    import os
    import sys
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from avatars.imaging import decode

    lock = threading.Lock()
    running, most, seen = 0, 0, set()

    def work():
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        seen.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        Image.open(io.BytesIO(fixture("cmyk.jpg"))).load()  # real work while the others wait
        with lock:
            running -= 1
        return threading.get_native_id()

    with ThreadPoolExecutor(max_workers=4) as callers:
        threads = set(callers.map(lambda _: decode._run_decode(work), range(8)))
    assert most == 1
    assert threading.get_native_id() not in threads and len(threads) == 1
    if sys.platform == "linux":
        assert seen == {os.getpriority(os.PRIO_PROCESS, 0) + decode.DECODE_NICENESS}
    # A decode asked for from the decoding thread itself runs there instead of waiting on it.
    assert decode._run_decode(lambda: decode_master(fixture("cmyk.jpg"))).size == (40, 40)
