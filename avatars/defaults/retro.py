"""Retro: a symmetric 8-bit sprite with a solid head, eyes and hash-picked limbs."""

from __future__ import annotations

from PIL import Image

from .base import DefaultRequest, Dice
from .canvas import mirror_left, upscale_grid
from .palette import INK, WHITE, darker, hsl, hue, lighter

GRID = 8
HALF = GRID // 2
EMPTY, BODY, SHADE, EYE, MOUTH = range(5)
# Cells nearer the centre column are likelier to be filled, which gives a blob, not noise.
FILL_CHANCE = (0.3, 0.55, 0.75, 0.9)  # outermost .. centre column


def _sprite(dice: Dice) -> list[list[int]]:
    """The left half, row by row; column HALF-1 touches the mirror line."""
    cells = [
        [BODY if dice.chance(FILL_CHANCE[col]) else EMPTY for col in range(HALF)]
        for _ in range(GRID)
    ]
    eye_row, eye_col = dice.choice((2, 3)), dice.choice((1, 2))
    # A solid head around the eyes makes every sprite read as a creature.
    for row in range(eye_row - 1, eye_row + 3):
        for col in range(eye_col - 1, HALF):
            cells[row][col] = BODY
    for row in range(GRID):
        for col in range(HALF):
            if cells[row][col] == BODY and dice.chance(0.2):
                cells[row][col] = SHADE
    cells[eye_row][eye_col] = EYE
    cells[eye_row + 2][HALF - 1] = MOUTH
    if dice.chance(0.3):
        cells[eye_row + 2][HALF - 2] = MOUTH
    return cells


def retro(request: DefaultRequest) -> Image.Image:
    seed = request.seed
    dice = Dice(seed, b"retro")
    body = hsl(hue(seed), dice.between(0.55, 0.8), dice.between(0.45, 0.6))
    background = lighter(body, 0.88)
    colours = (background, body, darker(body, 0.35), WHITE, INK)
    cells = _sprite(dice)
    pixels = [
        colours[row[col if col < HALF else GRID - 1 - col]] for row in cells for col in range(GRID)
    ]
    grid = Image.new("RGB", (GRID, GRID))
    grid.putdata(pixels)
    return mirror_left(upscale_grid(grid, request.size, 1, background))
