"""Pixel reads typed for the tests.

Pillow types what it reads for every mode at once: a pixel is ``float | tuple[int, ...] | None``
(one band, several bands, no image data), extrema are one pair or a pair per band, and a colour
list is ``None`` when the image has more colours than asked for. Each helper asserts the shape the
test expects, so an image of an unexpected mode fails with its mode in the message.
"""

from __future__ import annotations

from PIL import Image


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    """The bands of the pixel at ``xy`` in an image of several bands (RGB, RGBA, LA...)."""
    value = image.getpixel(xy)
    assert isinstance(value, tuple), f"a {image.mode} pixel is {value!r}, not one value per band"
    return value


def level(image: Image.Image, xy: tuple[int, int]) -> int:
    """The value of the pixel at ``xy`` in an image of one integer band (L, P, 1)."""
    value = image.getpixel(xy)
    assert isinstance(value, int), f"a {image.mode} pixel is {value!r}, not one integer"
    return value


def extrema(image: Image.Image) -> tuple[tuple[int, int], ...]:
    """The (lowest, highest) value of each band of an image of several bands."""
    per_band = []
    for band in image.getextrema():
        assert isinstance(band, tuple), f"a {image.mode} image has one band, not several"
        per_band.append(band)
    return tuple(per_band)


def colours(image: Image.Image, maxcolors: int = 256) -> list[tuple[int, tuple[int, ...]]]:
    """(count, colour) for each colour of an image of several bands; at most ``maxcolors``."""
    found = image.getcolors(maxcolors)
    assert found is not None, f"the image has more than {maxcolors} colours"
    counted = []
    for count, colour in found:
        assert isinstance(colour, tuple), f"a {image.mode} colour is {colour!r}, not bands"
        counted.append((count, colour))
    return counted
