import hashlib

import pytest
from PIL import Image, ImageChops, ImageOps

from avatars.defaults import render_default
from avatars.defaults.palette import INK, WHITE
from tests import pixels

DIGESTS = [
    hashlib.md5(f"user{i}@example.com".encode(), usedforsecurity=False).hexdigest()
    for i in range(12)
]


@pytest.mark.parametrize("size", [8, 16, 33, 80, 512])
@pytest.mark.parametrize("digest", DIGESTS[:4])
def test_retro_is_left_right_symmetric(digest, size):
    image = render_default("retro", digest, size)
    assert image.tobytes() == ImageOps.mirror(image).tobytes()


def test_retro_is_8x8_pixel_art_in_whole_pixel_cells():
    # 100 px is 10 cells of 10 px: an 8x8 sprite with one cell of margin
    for digest in DIGESTS[:4]:
        image = render_default("retro", digest, 100)
        background = image.getpixel((0, 0))
        assert {image.getpixel((x, 5)) for x in range(100)} == {background}
        for row in range(8):
            for col in range(8):
                cell = image.crop((10 + 10 * col, 10 + 10 * row, 20 + 10 * col, 20 + 10 * row))
                assert len(pixels.colours(cell)) == 1


def test_retro_sprite_has_eyes_and_a_mouth():
    for digest in DIGESTS:
        colours = {c for _, c in pixels.colours(render_default("retro", digest, 40))}
        assert WHITE in colours
        assert INK in colours


def test_retro_is_not_flat():
    for digest in DIGESTS:
        assert len(pixels.colours(render_default("retro", digest, 40))) >= 4


def test_same_hash_gives_same_pixels():
    a = render_default("retro", DIGESTS[0], 80)
    assert a.tobytes() == render_default("retro", DIGESTS[0], 80).tobytes()


def test_different_hashes_differ():
    sprites = {render_default("retro", d, 40).tobytes() for d in DIGESTS}
    assert len(sprites) == len(DIGESTS)


def test_retro_shapes_differ_not_just_colours():
    masks = set()
    for digest in DIGESTS:
        image = render_default("retro", digest, 10)
        background = Image.new("RGB", image.size, image.getpixel((0, 0)))
        diff = ImageChops.difference(image, background).convert("L")
        masks.add(diff.point(lambda v: 255 * (v > 0)).tobytes())
    assert len(masks) >= len(DIGESTS) - 1
