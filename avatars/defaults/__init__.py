"""Default images for addresses without an avatar (Gravatar's ``d=`` styles).

Every generator is a pure function of (digest, size, text): no Django, no I/O, no
unseeded randomness, so the same URL always yields the same pixels in every process.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from PIL import Image

from avatars import contract
from avatars.contract import MAX_SIZE

from .base import DefaultRequest, Generator, Rows, RowsDrawing, digest_bytes
from .blank import blank
from .color import color
from .identicon import identicon, identicon_rows
from .initials import initials, initials_from
from .monsterid import monsterid
from .mp import mp
from .retro import retro
from .robohash import robohash
from .wavatar import wavatar

__all__ = [
    "GENERATORS",
    "MAX_SIZE",
    "DefaultRequest",
    "Generator",
    "Rows",
    "digest_bytes",
    "initials_from",
    "render_default",
    "render_default_rows",
]

# Each drawing is named after the `d=` keyword it answers; the contract says which exist, so a
# keyword without a drawing fails here, at import, and a drawing no keyword names is unused.
_DRAWINGS = {
    generator.__name__: generator
    for generator in (mp, identicon, monsterid, wavatar, retro, robohash, blank, initials, color)
}
GENERATORS: Mapping[str, Generator] = MappingProxyType(
    {kind: _DRAWINGS[kind] for kind in contract.GENERATED_DEFAULTS}
)


# Drawings that can also give their pixels as runs of rows, which a PNG is written from
# without an Image (the identicon: most defaults a never-seen hash asks for).
ROWS_DRAWINGS: Mapping[str, RowsDrawing] = MappingProxyType({"identicon": identicon_rows})


def render_default(kind: str, digest: str, size: int, text: str = "") -> Image.Image:
    """Draw the ``kind`` default image; KeyError for an unknown kind."""
    generator = GENERATORS[kind]
    return generator(_request(digest, size, text))


def render_default_rows(kind: str, digest: str, size: int, text: str = "") -> Rows | None:
    """The same pixels as render_default() as runs of rows, or None where a drawing (or this
    size of it) has no such form."""
    drawing = ROWS_DRAWINGS.get(kind)
    return None if drawing is None else drawing(_request(digest, size, text))


def _request(digest: str, size: int, text: str) -> DefaultRequest:
    if not contract.MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {contract.MIN_SIZE} and {MAX_SIZE}, not {size}")
    return DefaultRequest(digest, size, text)
