"""MonsterID: a hash-coloured creature assembled from interchangeable parts."""

from __future__ import annotations

from PIL import Image

from .base import DefaultRequest, Dice
from .canvas import Box, Ink, Pen, render_vector
from .palette import INK, WHITE, darker, hsl, hue, lighter, mix

TRANSPARENT = (0, 0, 0, 0)
IVORY = (250, 244, 222)
MOUTH_RED = (120, 22, 40)

# Bodies: (box, corner radius or None for an ellipse).  Each leaves room for limbs.
BODIES: tuple[tuple[Box, float | None], ...] = (
    ((22, 28, 78, 84), None),
    ((27, 20, 73, 86), None),
    ((22, 26, 78, 84), 16),
    ((18, 36, 82, 84), 22),
)


def _horns(pen: Pen, top: float, ink: Ink, dice: Dice) -> None:
    # Bases sit well inside the body, since the top of an oval body is narrow.
    style = dice.pick(4)
    if style == 0:
        for side in (-1, 1):
            x = 50 + side * 10
            pen.polygon([(x - 6, top + 10), (x + 6, top + 10), (x + side * 8, top - 14)], IVORY)
    elif style == 1:
        for side in (-1, 1):
            tip = (50 + side * 20, top - 14)
            pen.line([(50 + side * 8, top + 4), tip], ink, 3)
            pen.circle(*tip, 5, ink)
    elif style == 2:
        for x in (38, 50, 62):
            pen.polygon([(x - 7, top + 14), (x + 7, top + 14), (x, top - 8)], ink)
    else:
        for dx in (-6, 0, 6):
            pen.line([(50 + dx, top + 4), (50 + 2 * dx, top - 10)], ink, 3)


def _limbs(pen: Pen, box: Box, ink: Ink, dice: Dice) -> None:
    x0, _, x1, y1 = box
    legs = dice.choice((2, 3, 4))
    for i in range(legs):
        x = 50 + (i - (legs - 1) / 2) * (52 / legs)
        pen.rect((x - 5, y1 - 10, x + 5, y1 + 8), ink, 4)
        pen.ellipse((x - 8, y1 + 3, x + 8, y1 + 11), ink)
    arms = dice.pick(3)
    for side in (-1, 1):
        shoulder = (x1 - 4 if side > 0 else x0 + 4, 58)
        if arms == 0:  # hanging
            pen.line([shoulder, (50 + side * 42, 76)], ink, 6)
        elif arms == 1:  # waving
            pen.line([shoulder, (50 + side * 40, 48), (50 + side * 42, 34)], ink, 6)
        else:  # wiggly tentacles
            pts = [(shoulder[0] + side * 6 * k, 58 + (6 if k % 2 else 0) + 2 * k) for k in range(5)]
            pen.line(pts, ink, 5)


def _eyes(pen: Pen, box: Box, dice: Dice) -> None:
    count = dice.choice((1, 2, 2, 3))
    radius = dice.between(6, 10) if count > 1 else dice.between(10, 13)
    y = box[1] + (box[3] - box[1]) * 0.33
    spread = {1: [0.0], 2: [-11.0, 11.0], 3: [-16.0, 0.0, 16.0]}[count]
    look = (dice.between(-0.4, 0.4), dice.between(-0.3, 0.4))
    for dx in spread:
        ey = y - 4 if count == 3 and dx == 0 else y
        pen.circle(50 + dx, ey, radius, WHITE, INK, 1.2)
        pen.circle(50 + dx + look[0] * radius, ey + look[1] * radius, radius * 0.45, INK)


def _mouth(pen: Pen, box: Box, dice: Dice) -> None:
    y = box[1] + (box[3] - box[1]) * 0.62
    style = dice.pick(4)
    if style == 0:  # toothy grin
        pen.chord((34, y - 10, 66, y + 10), 0, 180, MOUTH_RED)
        for x in (40, 47, 54):
            pen.rect((x, y, x + 6, y + 4), WHITE)
    elif style == 1:  # fangs
        pen.line([(36, y), (64, y)], INK, 2.5)
        for x in (42, 58):
            pen.polygon([(x - 3, y), (x + 3, y), (x, y + 7)], WHITE)
    elif style == 2:  # surprised
        pen.ellipse((44, y - 5, 56, y + 7), MOUTH_RED, INK, 1.5)
    else:  # zigzag
        pts = [(36 + 4 * i, y + (3 if i % 2 else -3)) for i in range(8)]
        pen.line(pts, INK, 2.2)


def monsterid(request: DefaultRequest) -> Image.Image:
    seed = request.seed
    dice = Dice(seed, b"monsterid")
    skin = hsl(hue(seed) + dice.between(-0.05, 0.05), dice.between(0.5, 0.75), 0.55)
    limb = darker(skin, 0.25)
    box, radius = dice.choice(BODIES)
    belly = mix(skin, IVORY, 0.55)

    def paint(pen: Pen) -> None:
        _horns(pen, box[1], limb, dice)
        _limbs(pen, box, limb, dice)
        if radius is None:
            pen.ellipse(box, skin, darker(skin, 0.4), 1.5)
        else:
            pen.rect(box, skin, radius, darker(skin, 0.4), 1.5)
        if dice.chance(0.5):
            x0, y0, x1, y1 = box
            pen.ellipse((x0 + 12, y0 + (y1 - y0) * 0.5, x1 - 12, y1 - 3), belly)
        elif dice.chance(0.6):
            for _ in range(4):
                pen.circle(
                    dice.between(30, 70), dice.between(box[1] + 6, 80), 2.5, lighter(skin, 0.3)
                )
        _eyes(pen, box, dice)
        _mouth(pen, box, dice)

    return render_vector(request.size, "RGBA", TRANSPARENT, paint)
