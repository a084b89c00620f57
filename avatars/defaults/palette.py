"""Hash-to-colour helpers, so every style gives an address the same signature colour."""

from __future__ import annotations

import colorsys

RGB = tuple[int, int, int]

WHITE: RGB = (255, 255, 255)
INK: RGB = (34, 34, 40)
BACKGROUND: RGB = (240, 240, 240)


def hsl(hue: float, saturation: float, lightness: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return round(r * 255), round(g * 255), round(b * 255)


def _luminance(rgb: RGB) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def hue(seed: bytes) -> float:
    return int.from_bytes(seed[:2], "big") / 65536


def primary(seed: bytes) -> RGB:
    """The address's signature colour, dark enough for white text on top.

    At a fixed HSL lightness, yellows and greens are far brighter than blues, so the
    lightness is lowered until white reaches a 3:1 contrast (WCAG, large text).
    """
    saturation = 0.45 + 0.25 * seed[2] / 255
    lightness = 0.42 + 0.13 * seed[3] / 255
    rgb = hsl(hue(seed), saturation, lightness)
    while 1.05 / (_luminance(rgb) + 0.05) < 3.0:
        lightness -= 0.02
        rgb = hsl(hue(seed), saturation, lightness)
    return rgb


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Blend from a (t=0) to b (t=1)."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def darker(rgb: RGB, t: float = 0.3) -> RGB:
    return mix(rgb, (0, 0, 0), t)


def lighter(rgb: RGB, t: float = 0.3) -> RGB:
    return mix(rgb, WHITE, t)
