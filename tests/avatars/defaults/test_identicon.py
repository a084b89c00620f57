import hashlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from avatars.defaults import render_default
from avatars.defaults.palette import BACKGROUND
from tests import pixels

DIGESTS = [
    hashlib.md5(f"user{i}@example.com".encode(), usedforsecurity=False).hexdigest()
    for i in range(12)
]


@pytest.mark.parametrize("size", [5, 16, 17, 80, 81, 512])
@pytest.mark.parametrize("digest", DIGESTS[:4])
def test_identicon_is_left_right_symmetric(digest, size):
    image = render_default("identicon", digest, size)
    assert image.tobytes() == ImageOps.mirror(image).tobytes()


def test_identicon_is_one_colour_on_a_light_background():
    for digest in DIGESTS:
        colours = {c for _, c in pixels.colours(render_default("identicon", digest, 80))}
        assert BACKGROUND in colours
        assert len(colours) == 2


def test_identicon_is_a_5x5_grid_of_square_cells_with_a_margin():
    # 60 px is 6 cells of 10 px: half a cell of margin each side
    image = render_default("identicon", DIGESTS[0], 60)
    border = [image.getpixel((x, y)) for x in range(60) for y in (0, 4, 55, 59)]
    assert set(border) == {BACKGROUND}
    for row in range(5):
        for col in range(5):
            cell = image.crop((5 + 10 * col, 5 + 10 * row, 15 + 10 * col, 15 + 10 * row))
            assert len(pixels.colours(cell)) == 1


def test_same_hash_gives_same_pixels():
    a = render_default("identicon", DIGESTS[0], 80)
    b = render_default("identicon", DIGESTS[0], 80)
    assert a.tobytes() == b.tobytes()


def test_different_hashes_differ():
    patterns = {render_default("identicon", d, 30).tobytes() for d in DIGESTS}
    assert len(patterns) == len(DIGESTS)


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=70))
def test_identicon_is_never_empty(digest):
    colours = {c for _, c in pixels.colours(render_default("identicon", digest, 12))}
    assert colours - {BACKGROUND}


@pytest.mark.parametrize("size", [*range(1, 130), 255, 256, 257, 333, 511, 512, 1000, 2047, 2048])
def test_the_rows_drawing_and_its_png_have_the_pixels_of_the_pillow_drawing(size):
    # The endpoint writes an identicon's PNG from its rows, as a two-colour palette image.
    from avatars.defaults.base import DefaultRequest
    from avatars.defaults.identicon import _drawn_with_pillow, identicon_rows
    from avatars.renditions import _drawn

    for digest in DIGESTS[:3]:
        request = DefaultRequest(digest, size)
        drawn = _drawn_with_pillow(request)
        assert render_default("identicon", digest, size).tobytes() == drawn.tobytes()
        rows = identicon_rows(request)
        if rows is None:  # sizes below the grid are sampled by Pillow
            assert size < 5
            continue
        assert rows.pixels() == drawn.tobytes()
        png = Image.open(io.BytesIO(_drawn("identicon", digest, size, "", "PNG")))
        assert (png.format, png.mode, png.size) == ("PNG", "P", (size, size))
        assert png.convert("RGB").tobytes() == drawn.tobytes()
