"""Golden pixels: each generator's drawing is pinned to RENDITION_VERSION.

Caches, ETags and edge objects of defaults are keyed by RENDITION_VERSION, never by the
drawing itself, so a drawing that changes without a version bump would leave the old pixels
in every cache for a month and answer 304 to browsers that hold them. This test fails then.

To update it after changing a drawing on purpose (or after a Pillow upgrade that moves pixels):

1. bump RENDITION_VERSION in avatars/renditions.py;
2. run `.venv/bin/python -m tests.avatars.defaults.test_golden`, which prints the new table;
3. paste it over GOLDEN below, and after the deploy run `manage.py purge_edge --defaults`.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from avatars.contract import GENERATED_DEFAULTS
from avatars.defaults import render_default
from avatars.renditions import RENDITION_VERSION

SEED = hashlib.md5(b"golden@example.com", usedforsecurity=False).hexdigest()
TEXT = "GA"
# One size on the shared small canvas, one drawn at twice its size and reduced.
SIZES = (24, 160)

GOLDEN: dict[str, Any] = {
    "version": 4,
    "pixels": {
        "mp": "179e337518fac8688c148fad3dcebec91372a0f54c7eebe537a52e9aefa53e3d",
        "identicon": "08c2fed132600c0157f96a0e85ddf07f7e7d0959648f3157bb4aeaff476a1736",
        "monsterid": "1f4b6e6d0d5f7bf3380cdc7994ce96c362ffb95972c4b5b3499665fbcc2b4d4c",
        "wavatar": "2a2740da5cfb04ea4a418e0fdcd8558b35f3ba94289158b505225fb6d1e7cb04",
        "retro": "9b8587db3ac3b1b1f37645778325ddc295fb6362dd9cef38ee554c70f90128f8",
        "robohash": "acedb70d8744fc1b18ac9bd20565a191376a228183ebc2682502eb0ec4276c34",
        "blank": "3e165dd89d23234232a3dca3a53ff7504fb876ac9202b403187595be653ce654",
        "initials": "35ce2fe3549422cebe7352545de469484ae0bfa40b4c4d3a966813266c9c5389",
        "color": "d805e1d43cf3be5edeae933f9be424a6c691f4e7ebe98498bc14f322212e0bc8",
    },
}


def fingerprint(kind: str) -> str:
    """SHA-256 of every pixel (and the modes) at each of SIZES."""
    digest = hashlib.sha256()
    for size in SIZES:
        image = render_default(kind, SEED, size, TEXT)
        digest.update(f"{image.mode} {image.size}".encode())
        digest.update(image.tobytes())
    return digest.hexdigest()


def test_the_pinned_pixels_are_those_of_this_rendition_version():
    assert GOLDEN["version"] == RENDITION_VERSION, (
        "RENDITION_VERSION changed: regenerate GOLDEN (see this file's docstring)"
    )
    assert sorted(GOLDEN["pixels"]) == sorted(GENERATED_DEFAULTS)


@pytest.mark.parametrize("kind", GENERATED_DEFAULTS)
def test_each_drawing_is_the_one_its_rendition_version_pinned(kind):
    assert fingerprint(kind) == GOLDEN["pixels"].get(kind), (
        f"{kind} draws different pixels under RENDITION_VERSION {RENDITION_VERSION}: "
        "bump it and regenerate GOLDEN (see this file's docstring)"
    )


if __name__ == "__main__":
    print("GOLDEN: dict[str, Any] = {")
    print(f'    "version": {RENDITION_VERSION},')
    print('    "pixels": {')
    for kind in GENERATED_DEFAULTS:
        print(f'        "{kind}": "{fingerprint(kind)}",')
    print("    },")
    print("}")
