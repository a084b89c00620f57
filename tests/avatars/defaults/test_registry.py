import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import avatars.defaults as defaults
from avatars.defaults import GENERATORS, DefaultRequest, digest_bytes, initials_from, render_default
from tests.pixels import colours, extrema

KINDS = [
    "mp",
    "identicon",
    "monsterid",
    "wavatar",
    "retro",
    "robohash",
    "blank",
    "initials",
    "color",
]
MD5 = hashlib.md5(b"jane@example.com", usedforsecurity=False).hexdigest()
OTHER_MD5 = hashlib.md5(b"john@example.com", usedforsecurity=False).hexdigest()
# Gravatar's mystery person and blank do not depend on the address.
SAME_FOR_EVERY_ADDRESS = {"mp", "blank"}
PROJECT = Path(__file__).resolve().parents[3]


def fingerprint(image):
    return hashlib.sha256(image.mode.encode() + image.tobytes()).hexdigest()


def test_registry_has_exactly_the_gravatar_styles():
    assert sorted(GENERATORS) == sorted(KINDS)


def test_registry_is_read_only():
    with pytest.raises(TypeError):
        # the type (a Mapping) already forbids the write: the test is that run time refuses it too
        GENERATORS["evil"] = GENERATORS["mp"]  # type: ignore[index]


def test_public_api_is_exported():
    assert DefaultRequest("a", 1).size == 1
    assert set(defaults.__all__) >= {"GENERATORS", "render_default", "initials_from"}


def test_digest_bytes_gives_32_stable_bytes_per_address():
    assert len(digest_bytes(MD5)) == 32
    assert digest_bytes(f"  {MD5.upper()} ") == digest_bytes(MD5)
    assert digest_bytes(MD5) != digest_bytes(OTHER_MD5)


def test_initials_from_takes_the_first_and_last_word():
    assert initials_from("Some random user") == "SU"
    assert initials_from("jane") == "J"
    assert initials_from("") == ""


@pytest.mark.parametrize("size", [1, 37, 80])
@pytest.mark.parametrize("kind", KINDS)
def test_each_registered_generator_draws_a_png_of_the_asked_size(kind, size):
    out = io.BytesIO()
    GENERATORS[kind](DefaultRequest(MD5, size, "JD")).save(out, "PNG")
    drawn = Image.open(io.BytesIO(out.getvalue()))
    assert (drawn.format, drawn.size) == ("PNG", (size, size))


@pytest.mark.parametrize("kind", sorted(set(KINDS) - SAME_FOR_EVERY_ADDRESS))
def test_each_seeded_generator_draws_another_image_for_another_address(kind):
    mine = GENERATORS[kind](DefaultRequest(MD5, 80, "JD"))
    theirs = GENERATORS[kind](DefaultRequest(OTHER_MD5, 80, "JD"))
    assert fingerprint(mine) != fingerprint(theirs)


@pytest.mark.parametrize("kind", sorted(SAME_FOR_EVERY_ADDRESS))
def test_mp_and_blank_are_the_same_for_every_address(kind):
    mine = GENERATORS[kind](DefaultRequest(MD5, 80))
    assert fingerprint(mine) == fingerprint(GENERATORS[kind](DefaultRequest(OTHER_MD5, 80)))


def test_blank_is_transparent_and_mp_is_a_drawing():
    assert extrema(GENERATORS["blank"](DefaultRequest(MD5, 80)))[3] == (0, 0)
    assert len(colours(GENERATORS["mp"](DefaultRequest(MD5, 80)), maxcolors=80 * 80)) > 2


def test_each_kind_is_registered_to_its_own_generator():
    drawn = {kind: fingerprint(GENERATORS[kind](DefaultRequest(MD5, 80, "JD"))) for kind in KINDS}
    assert len(set(drawn.values())) == len(KINDS)


def test_unknown_kind_raises_key_error():
    with pytest.raises(KeyError):
        render_default("404", MD5, 80)


@pytest.mark.parametrize("size", [0, -1, 2049])
def test_size_outside_1_to_2048_raises_value_error(size):
    with pytest.raises(ValueError):
        render_default("identicon", MD5, size)


@pytest.mark.parametrize("size", [1, 16, 80, 512])
@pytest.mark.parametrize("kind", KINDS)
def test_every_generator_returns_exactly_the_requested_size(kind, size):
    image = render_default(kind, MD5, size)
    assert image.size == (size, size)
    assert image.mode in ("RGB", "RGBA")


@pytest.mark.parametrize("kind", ["identicon", "robohash", "initials", "mp"])
def test_largest_size_is_supported(kind):
    assert render_default(kind, MD5, 2048, "JD").size == (2048, 2048)


@pytest.mark.parametrize("kind", KINDS)
def test_same_hash_gives_same_pixels(kind):
    assert fingerprint(render_default(kind, MD5, 80, "JD")) == fingerprint(
        render_default(kind, MD5, 80, "JD")
    )


@pytest.mark.parametrize(
    "digest", ["", "a", "abc", "XYZ not hex!", "  " + MD5.upper() + " ", "0" * 64]
)
@pytest.mark.parametrize("kind", KINDS)
def test_odd_digests_still_render(kind, digest):
    assert render_default(kind, digest, 24).size == (24, 24)


def test_upper_case_digest_gives_the_same_image():
    assert fingerprint(render_default("monsterid", MD5.upper(), 40)) == fingerprint(
        render_default("monsterid", MD5, 40)
    )


def test_pixels_do_not_depend_on_the_process():
    """Renders in fresh interpreters with other hash seeds match this process."""
    script = (
        "import hashlib, json, sys; from avatars.defaults import GENERATORS, render_default; "
        "print(json.dumps({k: hashlib.sha256(render_default(k, sys.argv[1], 40, 'JD').tobytes())"
        ".hexdigest() for k in GENERATORS}))"
    )
    here = {
        kind: hashlib.sha256(render_default(kind, MD5, 40, "JD").tobytes()).hexdigest()
        for kind in KINDS
    }
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", script, MD5],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert json.loads(out) == here
