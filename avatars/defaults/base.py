"""Types and hash plumbing shared by every default-image generator."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import NamedTuple, TypeVar

from PIL import Image

T = TypeVar("T")


def digest_bytes(digest: str) -> bytes:
    """32 stable bytes for any digest string.

    Hashing again (rather than hex-decoding) means short, odd or non-hex input still
    works, while an md5 and a sha256 of the same address stay distinct.
    """
    return hashlib.sha256(digest.strip().lower().encode()).digest()


class DefaultRequest(NamedTuple):
    digest: str
    size: int
    text: str = ""

    @property
    def seed(self) -> bytes:
        return digest_bytes(self.digest)


Generator = Callable[[DefaultRequest], Image.Image]


# A row of pixels as runs: (index in the palette, that many pixels) from left to right.
RowRuns = tuple[tuple[int, int], ...]


class Rows(NamedTuple):
    """A drawing of a few flat colours as runs of identical rows: what a drawing made of a
    handful of distinct rows (the identicon: the margin and five bands) gives the PNG writer,
    which writes it as a palette image without an Image or a row of RGB bytes."""

    width: int
    height: int
    palette: tuple[tuple[int, int, int], ...]  # RGB, at most 256
    runs: tuple[tuple[RowRuns, int], ...]  # (one row, how many rows in a row), top to bottom

    def pixels(self) -> bytes:
        """The RGB bytes of every pixel, row by row (Image.frombytes' "RGB")."""
        colours = [bytes(colour) for colour in self.palette]
        return b"".join(
            b"".join(colours[index] * n for index, n in row) * count for row, count in self.runs
        )


RowsDrawing = Callable[[DefaultRequest], "Rows | None"]


class Dice:
    """A byte stream derived from the seed.

    Used instead of random.Random because its algorithms may change between Python
    releases, and a default image must never change under a cached URL.  The salt keeps
    each generator's choices independent of the bytes the palette already used.
    """

    def __init__(self, seed: bytes, salt: bytes) -> None:
        self._base = salt + seed
        self._buf = b""
        self._pos = 0
        self._block = 0

    def byte(self) -> int:
        if self._pos >= len(self._buf):
            self._buf = hashlib.sha256(self._base + self._block.to_bytes(4, "big")).digest()
            self._block += 1
            self._pos = 0
        self._pos += 1
        return self._buf[self._pos - 1]

    def pick(self, n: int) -> int:
        """An index in range(n); the modulo bias is irrelevant for drawing."""
        return self.byte() % n

    def choice(self, options: Sequence[T]) -> T:
        return options[self.pick(len(options))]

    def unit(self) -> float:
        return (self.byte() * 256 + self.byte()) / 65535

    def between(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.unit()

    def chance(self, p: float) -> bool:
        return self.unit() < p
