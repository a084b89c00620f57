import pytest

from avatars.defaults import render_default
from tests.pixels import extrema


@pytest.mark.parametrize("size", [1, 80, 512])
def test_blank_is_fully_transparent(size):
    image = render_default("blank", "abc", size)
    assert image.mode == "RGBA"
    assert extrema(image)[3] == (0, 0)


def test_blank_is_same_for_every_hash():
    assert (
        render_default("blank", "abc", 40).tobytes() == render_default("blank", "d", 40).tobytes()
    )
