"""A fully transparent square."""

from __future__ import annotations

from PIL import Image

from .base import DefaultRequest


def blank(request: DefaultRequest) -> Image.Image:
    return Image.new("RGBA", (request.size, request.size), (0, 0, 0, 0))
