import hashlib

from PIL import ImageChops

from avatars.defaults import render_default
from tests.pixels import level

DIGESTS = [
    hashlib.md5(f"user{i}@example.com".encode(), usedforsecurity=False).hexdigest()
    for i in range(5)
]


def test_mp_is_same_for_every_hash():
    images = [render_default("mp", digest, 80).tobytes() for digest in DIGESTS]
    assert len(set(images)) == 1


def test_mp_is_grey():
    image = render_default("mp", DIGESTS[0], 80)
    assert image.mode == "RGB"
    r, g, b = image.split()
    assert ImageChops.difference(r, g).getbbox() is None
    assert ImageChops.difference(g, b).getbbox() is None


def test_mp_is_a_darker_silhouette_on_a_light_grey_background():
    image = render_default("mp", DIGESTS[0], 100).convert("L")
    background = level(image, (2, 2))
    head, shoulders = level(image, (50, 38)), level(image, (50, 95))
    assert 200 < background < 245
    assert head == shoulders < background - 30
    # the head is round and separate: there is background between it and the canvas edge
    assert image.getpixel((50, 5)) == background
    assert image.getpixel((20, 38)) == background


def test_mp_returns_a_copy_callers_may_modify():
    first = render_default("mp", DIGESTS[0], 64)
    first.paste((255, 0, 0), (0, 0, 64, 64))
    assert render_default("mp", DIGESTS[0], 64).getpixel((0, 0)) != (255, 0, 0)


def test_mp_is_the_same_whether_cached_or_not():
    # sizes above the cache limit are drawn fresh; both paths draw the same picture
    small = render_default("mp", DIGESTS[0], 512)
    large = render_default("mp", DIGESTS[0], 1024)
    assert large.resize((512, 512)).convert("L").getpixel((256, 200)) == small.convert(
        "L"
    ).getpixel((256, 200))
