"""Photo-like test images: smooth shapes, gradients and sensor noise, so JPEG sizes and decode
times resemble a phone photo rather than a flat colour."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter


def photo(edge: int = 2048, *, seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    small = Image.new("RGB", (64, 64))
    draw = ImageDraw.Draw(small)
    for _ in range(40):
        x, y, r = rng.randrange(64), rng.randrange(64), rng.randrange(4, 24)
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=color)
    base = small.filter(ImageFilter.GaussianBlur(3)).resize((edge, edge), Image.Resampling.BICUBIC)
    detail = Image.merge("RGB", [Image.effect_noise((edge, edge), 32) for _ in range(3)])
    return Image.blend(base, detail, 0.12)


def variant(base: Image.Image, index: int) -> bytes:
    """The base photo with a mark that makes its bytes (and so its digest) unique."""
    image = base.copy()
    rng = random.Random(index)
    x, y = rng.randrange(image.width - 200), rng.randrange(image.height - 200)
    ImageDraw.Draw(image).rectangle((x, y, x + 200, y + 200), fill=(index % 256, 90, 160))
    return jpeg(image)


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()
