"""Identicon: a left-right symmetric 5x5 pattern in the signature colour, like GitHub's.

Drawn as runs of rows, not with Pillow: the picture is at most six distinct rows (the margin
and five bands of cells) in two colours, so it is a handful of (colour, pixels) runs, and its
PNG is written straight from them as a two-colour palette image
(`avatars.imaging.encode.encode_palette_rows`). `_drawn_with_pillow` is the original drawing;
tests/avatars/defaults/test_identicon.py holds the two to the same pixels at every size.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image

from .base import DefaultRequest, RowRuns, Rows
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
    blank: RowRuns = ((0, size),)
    runs: list[tuple[RowRuns, int]] = [(blank, offset)]
    for row in range(GRID):
        runs.append((_band(size, tuple(cells[row * GRID : (row + 1) * GRID])), cell))
    runs.append((blank, size - offset - cell * GRID))
    # Index 0 is the background, 1 the ink.
    return Rows(size, size, (BACKGROUND, ink), tuple((row, n) for row, n in runs if n))


Run = tuple[int, int]  # 1 for ink, 0 for the background; that many pixels


# Eight patterns a band can have (it is symmetric) at each size asked: bounded, and the same
# few sizes are nearly all traffic.
@lru_cache(maxsize=4096)
def _band(size: int, cells: tuple[bool, ...]) -> tuple[Run, ...]:
    """One band of cells across the image, as runs, the margins included."""
    cell = _cell(size)
    offset = (size - cell * GRID) // 2
    line = [(0, offset), *((int(on), cell) for on in cells), (0, size - offset - cell * GRID)]
    # As mirror_left: the right half is the left half reversed, whatever the margins.
    half = size // 2
    left = _first(line, half)
    middle = _first(_after(line, half), size - 2 * half)
    return tuple(run for run in (*left, *middle, *left[::-1]) if run[1])


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
