import hashlib

from hypothesis import given
from hypothesis import strategies as st

from avatars.defaults.palette import WHITE, _luminance, darker, hsl, lighter, mix, primary


def contrast(a, b):
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_hsl_converts_known_colours():
    assert hsl(0, 1, 0.5) == (255, 0, 0)
    assert hsl(1 / 3, 1, 0.5) == (0, 255, 0)
    assert hsl(0.7, 0, 1) == (255, 255, 255)
    assert hsl(1.0, 1, 0.5) == hsl(0.0, 1, 0.5)  # hue wraps around


def test_primary_is_deterministic():
    seed = hashlib.sha256(b"x").digest()
    assert primary(seed) == primary(seed)


@given(st.binary(min_size=32, max_size=32))
def test_primary_keeps_white_text_readable(seed):
    assert contrast(primary(seed), WHITE) >= 3.0


def test_primary_spreads_over_many_colours():
    colours = {primary(hashlib.sha256(str(i).encode()).digest()) for i in range(200)}
    assert len(colours) > 150


def test_primary_is_neither_grey_nor_garish():
    for i in range(100):
        r, g, b = primary(hashlib.sha256(str(i).encode()).digest())
        assert max(r, g, b) - min(r, g, b) > 40
        assert max(r, g, b) < 235


def test_mix_goes_from_first_to_second_colour():
    assert mix((0, 0, 0), (200, 100, 50), 0) == (0, 0, 0)
    assert mix((0, 0, 0), (200, 100, 50), 1) == (200, 100, 50)
    assert mix((0, 0, 0), (200, 100, 50), 0.5) == (100, 50, 25)


def test_darker_and_lighter_move_towards_black_and_white():
    colour = (100, 150, 200)
    assert sum(darker(colour)) < sum(colour) < sum(lighter(colour))
