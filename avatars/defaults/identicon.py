"""Identicon: a left-right symmetric 5x5 pattern in the signature colour, like GitHub's."""

from __future__ import annotations

from PIL import Image

from .base import DefaultRequest
from .canvas import mirror_left, upscale_grid
from .palette import BACKGROUND, primary

GRID = 5
HALF = (GRID + 1) // 2  # the middle column is its own mirror


def identicon(request: DefaultRequest) -> Image.Image:
    seed = request.seed
    ink = primary(seed)
    # Bytes 4.. are untouched by the palette, so the pattern does not track the hue.
    bits = int.from_bytes(seed[4:8], "big")
    if bits % (1 << (GRID * HALF)) == 0:  # an empty square would look like a broken image
        bits = ~bits
    pixels = [BACKGROUND] * (GRID * GRID)
    for i in range(GRID * HALF):
        if bits >> i & 1:
            col, row = divmod(i, GRID)
            pixels[row * GRID + col] = pixels[row * GRID + GRID - 1 - col] = ink
    grid = Image.new("RGB", (GRID, GRID))
    grid.putdata(pixels)
    # Half a cell of margin on each side, as GitHub does.
    return mirror_left(upscale_grid(grid, request.size, 0.5, BACKGROUND))
