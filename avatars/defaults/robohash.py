"""RoboHash-style robot: boxy head, antenna, eyes, mouth grill and body, picked by the hash."""

from __future__ import annotations

from PIL import Image

from .base import DefaultRequest, Dice
from .canvas import Ink, Pen, render_vector
from .palette import INK, WHITE, darker, hsl, hue, lighter

TRANSPARENT = (0, 0, 0, 0)
# Bright "LED" colours that read against any body colour.
LIGHTS: tuple[Ink, ...] = ((255, 72, 72), (255, 208, 64), (80, 230, 120), (90, 200, 255))


def _antenna(pen: Pen, top: float, metal: Ink, light: Ink, dice: Dice) -> None:
    style = dice.pick(3)
    if style == 0:
        pen.line([(50, top), (50, top - 12)], metal, 2.5)
        pen.circle(50, top - 13, 4.5, light, INK, 1)
    elif style == 1:
        for side in (-1, 1):
            tip = (50 + side * 13, top - 13)
            pen.line([(50 + side * 6, top), tip], metal, 2.5)
            pen.circle(*tip, 3.5, light, INK, 1)
    else:
        pen.rect((44, top - 7, 56, top + 1), metal, 2, INK, 1)
        pen.rect((48, top - 13, 52, top - 7), light, 1)


def _eyes(pen: Pen, y: float, light: Ink, dice: Dice) -> None:
    style = dice.pick(4)
    if style == 0:  # round lenses
        for x in (39, 61):
            pen.circle(x, y, 7.5, WHITE, INK, 1.5)
            pen.circle(x, y, 3.5, light, INK, 1)
    elif style == 1:  # visor
        pen.rect((28, y - 6, 72, y + 6), INK, 6)
        pen.rect((32, y - 2.5, 68, y + 2.5), light, 2.5)
    elif style == 2:  # cyclops
        pen.circle(50, y, 10, WHITE, INK, 1.5)
        pen.circle(50, y, 5.5, light, INK, 1)
        pen.circle(48, y - 2, 1.5, WHITE)
    else:  # square sockets
        for x in (39, 61):
            pen.rect((x - 7, y - 6, x + 7, y + 6), INK, 2)
            pen.rect((x - 3, y - 2.5, x + 3, y + 2.5), light)


def _mouth(pen: Pen, y: float, metal: Ink, dice: Dice) -> None:
    style = dice.pick(3)
    if style == 0:  # grill
        pen.rect((36, y - 4, 64, y + 4), INK, 2)
        for x in range(40, 62, 4):
            pen.line([(x, y - 2), (x, y + 2)], metal, 1.2)
    elif style == 1:  # teeth
        pen.rect((36, y - 4, 64, y + 4), WHITE, 2, INK, 1.2)
        for x in range(41, 62, 5):
            pen.line([(x, y - 4), (x, y + 4)], INK, 0.8)
        pen.line([(36, y), (64, y)], INK, 0.8)
    else:  # speaker dots
        for x in range(38, 64, 6):
            pen.circle(x, y, 1.8, INK)


def robohash(request: DefaultRequest) -> Image.Image:
    seed = request.seed
    dice = Dice(seed, b"robohash")
    metal = hsl(hue(seed), dice.between(0.3, 0.6), dice.between(0.5, 0.62))
    shade, shine, edge = darker(metal, 0.3), lighter(metal, 0.35), darker(metal, 0.55)
    light = dice.choice(LIGHTS)
    head_w, head_h = dice.between(24, 30), dice.between(19, 23)
    top = 44 - head_h
    radius = dice.choice((3.0, 7.0, 12.0))

    def paint(pen: Pen) -> None:
        # Back to front: body and neck first so the head overlaps them.
        pen.rect((20, 72, 80, 112), metal, 10, edge, 1.5)
        pen.rect((34, 78, 66, 96), shade, 4)
        for i, x in enumerate((41, 50, 59)):
            pen.circle(x, 87, 3, LIGHTS[(dice.pick(4) + i) % 4], INK, 0.8)
        pen.rect((43, 62, 57, 74), shade, 0, edge, 1)
        for y in (66, 70):
            pen.line([(43, y), (57, y)], edge, 1)
        _antenna(pen, top, shade, light, dice)
        for side in (-1, 1):  # ear bolts
            ear = 50 + side * head_w
            pen.rect((ear - 4, 38, ear + 4, 52), shade, 2, edge, 1)
        pen.rect((50 - head_w, top, 50 + head_w, 44 + head_h), metal, radius, edge, 1.5)
        pen.rect((50 - head_w + 3, top + 3, 50 + head_w - 3, top + 6), shine, 1.5)
        _eyes(pen, 40, light, dice)
        _mouth(pen, 44 + head_h - 8, metal, dice)

    # Sketched with room to spare; zooming from near the top fills the frame, antenna intact.
    return render_vector(request.size, "RGBA", TRANSPARENT, paint, zoom=1.15, anchor=(50, 8))
