import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import avatars.defaults as defaults
from avatars.defaults import GENERATORS, DefaultRequest, digest_bytes, initials_from, render_default

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
PROJECT = Path(__file__).resolve().parents[3]


def fingerprint(image):
    return hashlib.sha256(image.mode.encode() + image.tobytes()).hexdigest()


def test_registry_has_exactly_the_gravatar_styles():
    assert sorted(GENERATORS) == sorted(KINDS)


def test_registry_is_read_only():
    with pytest.raises(TypeError):
        GENERATORS["evil"] = GENERATORS["mp"]


def test_public_api_is_exported():
    assert callable(digest_bytes)
    assert callable(initials_from)
    assert DefaultRequest("a", 1).size == 1
    assert set(defaults.__all__) >= {"GENERATORS", "render_default", "initials_from"}


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
