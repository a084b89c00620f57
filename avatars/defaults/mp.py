"""Mystery person: the same grey head-and-shoulders for every address."""

from __future__ import annotations

from functools import lru_cache

from PIL import Image

from .base import DefaultRequest
from .canvas import Ink, Pen, render_vector

BACKGROUND = (222, 222, 222)
SILHOUETTE = (168, 168, 168)


def paint_person(pen: Pen, color: Ink) -> None:
    pen.circle(50, 38, 18.5, color)
    # The shoulders run off the bottom edge, like a portrait crop.
    pen.ellipse((15, 62, 85, 132), color)


CACHE_UP_TO = 512  # 16 cached images of at most 512 px stay under 13 MB per process


def _render(size: int) -> Image.Image:
    return render_vector(size, "RGB", BACKGROUND, lambda pen: paint_person(pen, SILHOUETTE))


_cached_render = lru_cache(maxsize=16)(_render)


def mp(request: DefaultRequest) -> Image.Image:
    # Identical for every hash, so common sizes are drawn once; callers get a copy they may
    # mutate.  Huge sizes are not cached: sixteen images at the largest size would pin 200 MB.
    if request.size > CACHE_UP_TO:
        return _render(request.size)
    return _cached_render(request.size).copy()
