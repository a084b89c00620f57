"""Encoding for the wire (avatars/imaging/encode.py): a drawn default's PNG, written without
Pillow's encoder, decodes to exactly the pixels that were drawn, in every mode and size."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from avatars.contract import GENERATED_DEFAULTS
from avatars.defaults import render_default
from avatars.imaging.encode import encode, encode_drawing

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
