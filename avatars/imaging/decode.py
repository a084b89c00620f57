"""Turn untrusted upload bytes into a clean, upright, metadata-free image, or a clear refusal."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# Formats sniffed from the content, never from the file name.
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF"})

# Pillow's own bomb guard warns at 89 Mpx and fails at twice that; our own lower cap is
# checked from the header, before a single pixel is decoded.
DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class UploadRejected(ValueError):
    """The upload cannot become an avatar; the message is written for the person uploading."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS


def decode_upload(data: bytes, limits: Limits = Limits()) -> Image.Image:
    """Validate and decode an upload: first frame, EXIF orientation applied, RGB or RGBA."""
    if not data:
        raise UploadRejected("The file is empty.")
    if len(data) > limits.max_bytes:
        raise UploadRejected(
            f"The file is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{limits.max_bytes / 1_048_576:.0f} MB."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(
            "This file is not an image we can read. Use a JPEG, PNG, GIF or WebP file."
        ) from None
    if image.format not in ACCEPTED_FORMATS:
        raise UploadRejected(
            f"{image.format} images are not accepted. Use a JPEG, PNG, GIF or WebP file."
        )
    width, height = image.size
    if width * height > limits.max_pixels:
        raise UploadRejected(
            f"The image is {width} x {height} pixels; the limit is "
            f"{limits.max_pixels / 1_000_000:.0f} megapixels."
        )
    if width < 1 or height < 1:
        raise UploadRejected("The image has no pixels.")
    try:
        image.seek(0)  # animated images become their first frame
        image.load()
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UploadRejected("The image is truncated or corrupt; try saving it again.") from None
    return normalise_mode(upright)


def has_transparency(image: Image.Image) -> bool:
    if image.mode != "RGBA":
        return False
    lowest_alpha = image.getchannel("A").getextrema()[0]
    return isinstance(lowest_alpha, int) and lowest_alpha < 255


def normalise_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image really uses transparency. Drops all metadata with the copy."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in {"RGBA", "LA", "PA"} or (image.mode == "RGB" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        clean = rgba if has_transparency(rgba) else rgba.convert("RGB")
    else:
        clean = image.convert("RGB")
    # A new image from raw pixels carries no EXIF, XMP, ICC or comment blocks (GPS included).
    return Image.frombytes(clean.mode, clean.size, clean.tobytes())
