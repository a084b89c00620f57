"""Wavatar: a round cartoon face whose colours, eyes, brows and mouth vary with the hash."""

from __future__ import annotations

from PIL import Image

from .base import DefaultRequest, Dice
from .canvas import Ink, Pen, render_vector
from .palette import INK, WHITE, darker, hsl, hue, mix

BLUSH = (255, 90, 120)
MOUTH_RED = (150, 40, 55)
TONGUE = (240, 120, 140)


def _eyes(pen: Pen, face: Ink, dice: Dice) -> None:
    style = dice.pick(4)
    spread, y = dice.between(13, 17), dice.between(40, 46)
    look = dice.between(-1.5, 1.5)
    for side in (-1, 1):
        x = 50 + side * spread
        if style == 3:  # happy closed eyes
            pen.arc((x - 7, y - 4, x + 7, y + 8), 200, 340, INK, 2.5)
            continue
        rx, ry = ((7, 9), (8, 8), (6, 10))[style % 3]
        pen.ellipse((x - rx, y - ry, x + rx, y + ry), WHITE, INK, 1.2)
        pen.circle(x + look, y + 1.5, 3.8, INK)
        pen.circle(x + look + 1.3, y, 1.2, WHITE)
        if style == 2:  # sleepy lids
            pen.chord((x - rx - 1, y - ry - 1, x + rx + 1, y + ry + 1), 180, 360, face)
            pen.line([(x - rx, y), (x + rx, y)], INK, 1.5)


def _brows(pen: Pen, dice: Dice) -> None:
    style = dice.pick(4)
    y = dice.between(26, 30)
    for side in (-1, 1):
        inner, outer = 50 + side * 9, 50 + side * 23
        if style == 0:  # calm
            pen.line([(inner, y), (outer, y)], INK, 2.5)
        elif style == 1:  # cross
            pen.line([(inner, y + 3), (outer, y - 3)], INK, 3)
        elif style == 2:  # worried
            pen.line([(inner, y - 3), (outer, y + 2)], INK, 2.5)
        else:  # raised arches
            mid = 50 + side * 16
            pen.line([(inner, y), (mid, y - 4), (outer, y)], INK, 2.2)


def _mouth(pen: Pen, dice: Dice) -> None:
    style = dice.pick(5)
    y = dice.between(64, 68)
    if style == 0:  # smile
        pen.arc((36, y - 14, 64, y + 4), 20, 160, INK, 2.8)
    elif style == 1:  # open grin
        pen.chord((34, y - 10, 66, y + 12), 0, 180, MOUTH_RED)
        pen.rect((38, y, 62, y + 3), WHITE)
        pen.ellipse((43, y + 4, 57, y + 12), TONGUE)
    elif style == 2:  # "oh"
        pen.ellipse((44, y - 5, 56, y + 8), MOUTH_RED, INK, 1.5)
    elif style == 3:  # smirk
        pen.line([(40, y), (54, y + 1), (61, y - 4)], INK, 2.5)
    else:  # tongue out
        pen.line([(38, y), (62, y)], INK, 2.5)
        pen.chord((46, y - 6, 58, y + 10), 0, 180, TONGUE)


def wavatar(request: DefaultRequest) -> Image.Image:
    seed = request.seed
    dice = Dice(seed, b"wavatar")
    base = hue(seed)
    background = hsl(base + 0.5, dice.between(0.35, 0.6), dice.between(0.72, 0.82))
    face = hsl(base, dice.between(0.5, 0.75), dice.between(0.55, 0.65))
    shape = dice.pick(3)

    def paint(pen: Pen) -> None:
        if shape == 0:
            pen.circle(50, 52, 40, face, darker(face, 0.3), 1.5)
        elif shape == 1:
            pen.ellipse((6, 14, 94, 92), face, darker(face, 0.3), 1.5)
        else:
            pen.rect((12, 12, 88, 92), face, 30, darker(face, 0.3), 1.5)
        if dice.chance(0.5):
            for side in (-1, 1):
                pen.ellipse(
                    (50 + side * 27 - 7, 56, 50 + side * 27 + 7, 64), mix(face, BLUSH, 0.55)
                )
        _brows(pen, dice)
        _eyes(pen, face, dice)
        _mouth(pen, dice)

    return render_vector(request.size, "RGB", background, paint)
