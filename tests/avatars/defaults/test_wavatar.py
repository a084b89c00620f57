import hashlib

from avatars.defaults import render_default
from tests.pixels import colours, pixel

DIGESTS = [
    hashlib.md5(f"user{i}@example.com".encode(), usedforsecurity=False).hexdigest()
    for i in range(12)
]


def test_wavatar_is_a_face_on_a_coloured_background():
    for digest in DIGESTS:
        image = render_default("wavatar", digest, 100)
        assert image.mode == "RGB"
        background = pixel(image, (0, 0))
        assert max(background) - min(background) > 15  # tinted, not grey
        assert image.getpixel((50, 80)) != background  # the face fills the middle


def test_wavatar_is_not_flat():
    for digest in DIGESTS:
        assert len(colours(render_default("wavatar", digest, 80), 1 << 16)) >= 8


def test_wavatar_has_dark_features():
    for digest in DIGESTS:
        image = render_default("wavatar", digest, 200)
        assert any(max(c) < 60 for _, c in colours(image, 1 << 16))


def test_same_hash_gives_same_pixels():
    a = render_default("wavatar", DIGESTS[0], 80)
    assert a.tobytes() == render_default("wavatar", DIGESTS[0], 80).tobytes()


def test_different_hashes_differ():
    faces = {render_default("wavatar", d, 40).tobytes() for d in DIGESTS}
    assert len(faces) == len(DIGESTS)


def test_wavatar_backgrounds_vary():
    backgrounds = {render_default("wavatar", d, 8).getpixel((0, 0)) for d in DIGESTS}
    assert len(backgrounds) >= len(DIGESTS) - 1


def test_wavatar_features_differ_not_just_colours():
    features = {
        render_default("wavatar", d, 60).convert("L").point(lambda v: 255 * (v < 60)).tobytes()
        for d in DIGESTS
    }
    assert len(features) >= len(DIGESTS) - 2
