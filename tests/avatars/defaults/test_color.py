import hashlib

from avatars.defaults import digest_bytes, render_default
from avatars.defaults.palette import primary
from tests.pixels import colours

A = hashlib.md5(b"a@example.com", usedforsecurity=False).hexdigest()
B = hashlib.md5(b"b@example.com", usedforsecurity=False).hexdigest()


def test_color_is_one_flat_colour():
    image = render_default("color", A, 80)
    assert image.mode == "RGB"
    assert image.getcolors() == [(80 * 80, primary(digest_bytes(A)))]


def test_same_hash_gives_same_colour():
    assert render_default("color", A, 16).getpixel((0, 0)) == render_default(
        "color", A, 512
    ).getpixel((300, 300))


def test_different_hashes_differ():
    assert render_default("color", A, 1).getpixel((0, 0)) != render_default("color", B, 1).getpixel(
        (0, 0)
    )


def test_color_is_the_signature_colour_shared_with_identicon_and_initials():
    colour = render_default("color", A, 1).getpixel((0, 0))
    identicon_colours = {c for _, c in colours(render_default("identicon", A, 60))}
    assert colour in identicon_colours
    assert render_default("initials", A, 60, "AB").getpixel((1, 1)) == colour
