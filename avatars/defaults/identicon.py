"""Identicon: a left-right symmetric 5x5 pattern in the signature colour, like GitHub's.

Drawn as rows of bytes, not with Pillow: the picture is at most six distinct rows (the margin
and five bands of cells), each repeated, so it is built from a handful of byte runs, and its
PNG is written straight from them (`identicon_rows`, `avatars.imaging.encode.encode_rows`).
Drawing and encoding an 80 px identicon this way costs a fraction of Pillow's new image,
paste, crop, mirror and `tobytes`, for the same pixels: `_drawn_with_pillow` is the original
drawing, and tests/avatars/defaults/test_identicon.py holds the two to the same bytes at every
size.
"""

from __future__ import annotations

from PIL import Image

from .base import DefaultRequest, Rows
from .canvas import mirror_left, upscale_grid
from .palette import BACKGROUND, RGB, primary

GRID = 5
HALF = (GRID + 1) // 2  # the middle column is its own mirror
# Half a cell of margin on each side, as GitHub does.
MARGIN = 0.5


def identicon(request: DefaultRequest) -> Image.Image:
    rows = identicon_rows(request)
    if rows is None:
        return _drawn_with_pillow(request)
    return Image.frombytes("RGB", (rows.width, rows.height), rows.pixels())


def identicon_rows(request: DefaultRequest) -> Rows | None:
    """The identicon as runs of rows; None below GRID px, where cells are sampled (Pillow)."""
    size = request.size
    cell = _cell(size)
    if cell == 0:
        return None
    ink, cells = _pattern(request.seed)
    offset = (size - cell * GRID) // 2
    right = size - offset - cell * GRID
    ink_bytes, background = bytes(ink), bytes(BACKGROUND)
    blank = background * size
    half = size // 2
    runs: list[tuple[bytes, int]] = [(blank, offset)]
    for row in range(GRID):
        line = [(background, offset)]
        line += [(ink_bytes if on else background, cell) for on in cells[row * GRID :][:GRID]]
        line.append((background, right))
        # As mirror_left: the right half is the left half reversed, whatever the margins.
        left = _first(line, half)
        middle = _first(_after(line, half), size - 2 * half)
        pixels = left + middle + left[::-1]
        runs.append((b"".join(colour * n for colour, n in pixels), cell))
    runs.append((blank, size - offset - cell * GRID))
    return Rows("RGB", size, size, tuple((row, n) for row, n in runs if n))


Run = tuple[bytes, int]


def _first(line: list[Run], width: int) -> list[Run]:
    """The runs of the first `width` pixels of a row."""
    out = []
    for colour, n in line:
        if width <= 0:
            break
        out.append((colour, min(n, width)))
        width -= n
    return out


def _after(line: list[Run], width: int) -> list[Run]:
    """The runs after the first `width` pixels of a row."""
    out = []
    for colour, n in line:
        if width >= n:
            width -= n
            continue
        out.append((colour, n - width))
        width = 0
    return out


def _cell(size: int) -> int:
    """Cells are a whole number of pixels; the margin gives way first (upscale_grid)."""
    return min(max(1, round(size / (GRID + 2 * MARGIN))), size // GRID)


def _pattern(seed: bytes) -> tuple[RGB, list[bool]]:
    ink = primary(seed)
    # Bytes 4.. are untouched by the palette, so the pattern does not track the hue.
    bits = int.from_bytes(seed[4:8], "big")
    if bits % (1 << (GRID * HALF)) == 0:  # an empty square would look like a broken image
        bits = ~bits
    cells = [False] * (GRID * GRID)
    for i in range(GRID * HALF):
        if bits >> i & 1:
            col, row = divmod(i, GRID)
            cells[row * GRID + col] = cells[row * GRID + GRID - 1 - col] = True
    return ink, cells


def _drawn_with_pillow(request: DefaultRequest) -> Image.Image:
    """The drawing with Pillow: the reference for the rows above, and sizes below GRID px."""
    ink, cells = _pattern(request.seed)
    grid = Image.new("RGB", (GRID, GRID))
    grid.putdata([ink if on else BACKGROUND for on in cells])
    return mirror_left(upscale_grid(grid, request.size, MARGIN, BACKGROUND))
