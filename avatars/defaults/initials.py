"""Initials: up to three white letters on the signature colour."""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from .base import DefaultRequest
from .canvas import render_vector
from .mp import paint_person
from .palette import WHITE, lighter, primary

MAX_LETTERS = 3
# Font size as a share of the image, so three letters still fit.
SCALE = {1: 0.5, 2: 0.42, 3: 0.33}
MAX_WIDTH = 0.76


def initials_from(name: str) -> str:
    """'Some random user' -> 'SU': first letters of the first and last word, upper-cased."""
    words = name.split()
    chosen = words[:1] + words[1:][-1:]
    letters = (next((c for c in word if c.isalnum()), "") for word in chosen)
    # upper() may expand a letter ('ß' -> 'SS'); keep one character per word.
    return "".join(c.upper()[:1] for c in letters)


@lru_cache(maxsize=64)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font, so no system font has to be installed.
    return ImageFont.load_default(size=px)


def initials(request: DefaultRequest) -> Image.Image:
    size, background = request.size, primary(request.seed)
    text = request.text.strip().upper()[:MAX_LETTERS]
    if not text:
        return render_vector(
            size, "RGB", background, lambda pen: paint_person(pen, lighter(background, 0.75))
        )
    image = Image.new("RGB", (size, size), background)
    px = max(1, round(size * SCALE[len(text)]))
    font = _font(px)
    left, _, right, _ = font.getbbox(text, anchor="ls")
    if right - left > MAX_WIDTH * size:  # wide letters ("WWW") would touch the edges
        font = _font(max(1, int(px * MAX_WIDTH * size / (right - left))))
        left, _, right, _ = font.getbbox(text, anchor="ls")
    # Centre the ink horizontally and the cap height vertically, so letters look centred
    # whatever their side bearings and whether or not they have descenders.
    cap_top = font.getbbox("H", anchor="ls")[1]
    x = size / 2 - (left + right) / 2
    y = size / 2 - cap_top / 2
    ImageDraw.Draw(image).text((x, y), text, WHITE, font, anchor="ls")
    return image
