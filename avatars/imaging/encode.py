"""Encode images for storage and for the wire."""

from __future__ import annotations

import io

from PIL import Image, features

from avatars.imaging.decode import has_transparency

# Extensions and negotiated formats the endpoint can serve, mapped to Pillow formats.
CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "AVIF": "image/avif",
}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "AVIF": "avif"}


def can_encode(fmt: str) -> bool:
    if fmt == "AVIF":
        return bool(features.check("avif"))
    return fmt in CONTENT_TYPES


def natural_format(image: Image.Image) -> str:
    """Gravatar's rule: JPEG for opaque images, PNG when the image has transparency."""
    return "PNG" if has_transparency(image) else "JPEG"


def encode(image: Image.Image, fmt: str, *, for_storage: bool = False) -> bytes:
    """Bytes of the image in the format. PNG uses a low compression level on the wire because
    encoding dominates large renditions (zlib level 9 costs several times level 1)."""
    out = io.BytesIO()
    if fmt == "JPEG":
        rgb = image.convert("RGB") if image.mode != "RGB" else image
        rgb.save(out, "JPEG", quality=92 if for_storage else 85, optimize=False, progressive=False)
    elif fmt == "PNG":
        image.save(out, "PNG", compress_level=6 if for_storage else 3)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=82, method=2)
    elif fmt == "AVIF":
        image.save(out, "AVIF", quality=60, speed=8)
    else:
        raise ValueError(f"cannot encode {fmt}")
    return out.getvalue()
