import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from avatars.defaults import initials_from, render_default
from tests.pixels import pixel

DIGEST = hashlib.md5(b"jane@example.com", usedforsecurity=False).hexdigest()


def white_box(image, threshold=250):
    """Bounding box of near-white pixels, or None."""
    return image.convert("L").point(lambda v: 255 * (v >= threshold)).getbbox()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Some random user", "SU"),
        ("alice", "A"),
        ("", ""),
        ("   ", ""),
        ("  bob   smith  ", "BS"),
        ("jean-luc picard", "JP"),
        ("(bob) o'brien", "BO"),
        ("élodie ångström", "ÉÅ"),
        ("ßigrid", "S"),
        ("... bob", "B"),
    ],
)
def test_initials_from_name_takes_first_and_last_word(name, expected):
    assert initials_from(name) == expected


@given(st.text())
def test_initials_from_gives_at_most_two_upper_case_characters(name):
    result = initials_from(name)
    assert len(result) <= 2
    assert result == result.upper()


def test_initials_with_text_draws_white_letters_in_the_centre():
    with_text = render_default("initials", DIGEST, 100, "JD")
    box = white_box(with_text)
    assert box is not None
    left, top, right, bottom = box
    assert abs((left + right) / 2 - 50) <= 3
    assert abs((top + bottom) / 2 - 50) <= 3


def test_without_text_shows_a_person_glyph_not_letters():
    without = render_default("initials", DIGEST, 100)
    assert white_box(without) is None
    centre = pixel(without, (50, 40))
    assert centre != without.getpixel((2, 2))  # the glyph's head
    assert sum(centre) > sum(pixel(without, (2, 2)))


@pytest.mark.parametrize("text", ["W", "WW", "WWW"])
def test_initials_fit_inside_the_image(text):
    box = white_box(render_default("initials", DIGEST, 100, text))
    assert box is not None
    left, top, right, bottom = box
    assert left >= 8 and top >= 8 and right <= 92 and bottom <= 92


def test_initials_show_at_most_three_letters():
    assert (
        render_default("initials", DIGEST, 80, "ABCDE").tobytes()
        == render_default("initials", DIGEST, 80, "ABC").tobytes()
    )


def test_initials_are_upper_cased_and_trimmed():
    assert (
        render_default("initials", DIGEST, 80, " jd ").tobytes()
        == render_default("initials", DIGEST, 80, "JD").tobytes()
    )


def test_different_text_differs():
    assert (
        render_default("initials", DIGEST, 80, "AB").tobytes()
        != render_default("initials", DIGEST, 80, "CD").tobytes()
    )


def test_background_follows_the_hash():
    other = hashlib.md5(b"john@example.com", usedforsecurity=False).hexdigest()
    a = render_default("initials", DIGEST, 40, "AB").getpixel((0, 0))
    assert a != render_default("initials", other, 40, "AB").getpixel((0, 0))


@pytest.mark.parametrize("size", [1, 2, 3, 2048])
def test_initials_handle_extreme_sizes(size):
    assert render_default("initials", DIGEST, size, "AB").size == (size, size)
