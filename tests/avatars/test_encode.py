"""Encoding for the wire (avatars/imaging/encode.py): a drawn default's PNG, written without
Pillow's encoder, decodes to exactly the pixels that were drawn, in every mode and size."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from avatars.contract import GENERATED_DEFAULTS
from avatars.defaults import render_default
from avatars.imaging.encode import encode, encode_drawing, encode_palette_rows

SEED = hashlib.md5(b"someone@example.com", usedforsecurity=False).hexdigest()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()
    return image


@pytest.mark.parametrize("kind", GENERATED_DEFAULTS)
@pytest.mark.parametrize("size", [1, 7, 80, 333])
def test_a_drawn_png_decodes_to_the_drawn_pixels(kind, size):
    drawn = render_default(kind, SEED, size, "AB")
    image = decoded(encode_drawing(drawn, "PNG"))
    assert (image.mode, image.size) == (drawn.mode, drawn.size)
    assert image.tobytes() == drawn.tobytes()


def test_transparency_survives():
    drawn = Image.new("RGBA", (9, 4), (10, 20, 30, 0))
    drawn.putpixel((3, 2), (200, 100, 50, 128))
    image = decoded(encode_drawing(drawn, "PNG"))
    assert image.getpixel((0, 0)) == (10, 20, 30, 0)
    assert image.getpixel((3, 2)) == (200, 100, 50, 128)


def test_other_formats_and_modes_take_the_general_encoder():
    drawn = render_default("identicon", SEED, 40)
    assert encode_drawing(drawn, "WEBP") == encode(drawn, "WEBP")
    grey = drawn.convert("L")
    assert decoded(encode_drawing(grey, "PNG")).tobytes() == grey.tobytes()


@pytest.mark.parametrize("colours", [1, 2, 3, 4, 5, 16, 17, 256])
@pytest.mark.parametrize("width", [1, 7, 8, 9, 80, 333])
def test_palette_rows_decode_to_their_pixels_at_every_depth(colours, width):
    palette = tuple((n, 255 - n, n * 7 % 256) for n in range(colours))
    runs = []
    for row in range(6):
        line, left, index = [], width, row
        while left:
            n = min(left, 1 + (index * 5) % 11)
            line.append((index % colours, n))
            left -= n
            index += 1
        runs.append((tuple(line), 1 + row % 3))
    height = sum(count for _, count in runs)
    expected = b"".join(
        b"".join(bytes(palette[index]) * n for index, n in line) * count for line, count in runs
    )
    image = decoded(encode_palette_rows(width, height, palette, runs))
    assert (image.mode, image.size) == ("P", (width, height))
    assert image.convert("RGB").tobytes() == expected


def test_large_palette_drawings_take_zlibs_default_state():
    # Above SMALL_ZLIB_INPUT the larger window pays for itself; both decode the same.
    row = ((0, 300), (1, 700), (0, 1048))
    for height in (1, 500):
        image = decoded(
            encode_palette_rows(2048, height, ((0, 0, 0), (255, 255, 255)), [(row, height)])
        )
        assert image.convert("L").getpixel((299, height - 1)) == 0
        assert image.convert("L").getpixel((300, height - 1)) == 255
