"""A flat square of the address's signature colour."""

from __future__ import annotations

from PIL import Image

from .base import DefaultRequest
from .palette import primary


def color(request: DefaultRequest) -> Image.Image:
    return Image.new("RGB", (request.size, request.size), primary(request.seed))
