import hashlib

from avatars.defaults import render_default
from tests.pixels import pixel

DIGESTS = [
    hashlib.md5(f"user{i}@example.com".encode(), usedforsecurity=False).hexdigest()
    for i in range(12)
]


def opaque_colours(image):
    return {c[:3] for _, c in image.getcolors(1 << 16) if c[3] == 255}


def test_monsterid_is_a_creature_on_a_transparent_background():
    for digest in DIGESTS:
        image = render_default("monsterid", digest, 80)
        assert image.mode == "RGBA"
        assert pixel(image, (0, 0))[3] == 0
        assert pixel(image, (79, 0))[3] == 0
        assert pixel(image, (40, 44))[3] == 255  # the body fills the middle


def test_monsterid_is_not_flat():
    for digest in DIGESTS:
        colours = opaque_colours(render_default("monsterid", digest, 80))
        assert len(colours) >= 8


def test_monsterid_has_white_eyes_and_dark_pupils():
    for digest in DIGESTS:
        colours = opaque_colours(render_default("monsterid", digest, 200))
        assert (255, 255, 255) in colours
        assert any(max(c) < 60 for c in colours)


def test_same_hash_gives_same_pixels():
    a = render_default("monsterid", DIGESTS[0], 80)
    assert a.tobytes() == render_default("monsterid", DIGESTS[0], 80).tobytes()


def test_different_hashes_differ():
    monsters = {render_default("monsterid", d, 40).tobytes() for d in DIGESTS}
    assert len(monsters) == len(DIGESTS)


def test_monsterid_shapes_differ_not_just_colours():
    silhouettes = {
        render_default("monsterid", d, 40)
        .getchannel("A")
        .point(lambda a: 255 * (a > 127))
        .tobytes()
        for d in DIGESTS
    }
    assert len(silhouettes) >= len(DIGESTS) - 2
