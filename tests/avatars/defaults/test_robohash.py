import hashlib

from avatars.defaults import render_default
from tests.pixels import pixel

DIGESTS = [
    hashlib.md5(f"user{i}@example.com".encode(), usedforsecurity=False).hexdigest()
    for i in range(12)
]


def opaque_colours(image):
    return {c[:3] for _, c in image.getcolors(1 << 16) if c[3] == 255}


def test_robohash_is_a_robot_on_a_transparent_background():
    for digest in DIGESTS:
        image = render_default("robohash", digest, 100)
        assert image.mode == "RGBA"
        assert pixel(image, (0, 0))[3] == 0
        assert pixel(image, (99, 0))[3] == 0
        assert pixel(image, (50, 40))[3] == 255  # head
        assert pixel(image, (50, 99))[3] == 255  # the body runs off the bottom edge


def test_robohash_is_not_flat():
    for digest in DIGESTS:
        assert len(opaque_colours(render_default("robohash", digest, 80))) >= 8


def test_robohash_has_an_antenna_or_light_above_the_head():
    for digest in DIGESTS:
        alpha = render_default("robohash", digest, 100).getchannel("A")
        # something opaque sticks up in the middle, above the head's top edge
        top_rows = alpha.crop((30, 0, 70, 18))
        assert top_rows.getextrema()[1] == 255


def test_same_hash_gives_same_pixels():
    a = render_default("robohash", DIGESTS[0], 80)
    assert a.tobytes() == render_default("robohash", DIGESTS[0], 80).tobytes()


def test_different_hashes_differ():
    robots = {render_default("robohash", d, 40).tobytes() for d in DIGESTS}
    assert len(robots) == len(DIGESTS)


def test_robohash_parts_differ_not_just_colours():
    faces = {
        render_default("robohash", d, 60).convert("L").point(lambda v: 255 * (v > 90)).tobytes()
        for d in DIGESTS
    }
    assert len(faces) >= len(DIGESTS) - 2
