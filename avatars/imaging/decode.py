"""Turn untrusted upload bytes into a clean, upright, metadata-free image, or a clear refusal."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

# iPhones save HEIC; the plugin teaches Pillow to read it (AVIF Pillow reads by itself).
register_heif_opener()

# Formats sniffed from the content, never from the file name.
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF"})
FORMATS_HINT = "Use a JPEG, PNG, GIF, WebP, HEIC or AVIF file."

# Pillow's own bomb guard warns at 89 Mpx and fails at twice that; our own lower cap is
# checked from the header, before a single pixel is decoded.
DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# 16-bit greyscale PNGs decode into these modes, with values up to 65535.
SIXTEEN_BIT_GREY = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


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
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard fires on the header alone, before our finer limit below could.
        raise UploadRejected(
            "The image's dimensions are far too large; the limit is "
            f"{limits.max_pixels / 1_000_000:.0f} megapixels."
        ) from None
    except UnidentifiedImageError:
        raise UploadRejected(f"This file is not an image we can read. {FORMATS_HINT}") from None
    except ValueError:
        # Pillow refuses to inflate more than a megabyte of a PNG's colour profile or text
        # (iCCP, zTXt, iTXt) before the image data, with a bare ValueError.
        raise UploadRejected(
            "The image carries a colour profile or text block too large to read; "
            "save it again without metadata."
        ) from None
    if image.format not in ACCEPTED_FORMATS:
        raise UploadRejected(f"{image.format} images are not accepted. {FORMATS_HINT}")
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
    if image.mode in SIXTEEN_BIT_GREY:
        # A plain convert("RGB") clips 16-bit values to 255 and turns the picture white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in {"RGBA", "LA", "PA"} or (image.mode == "RGB" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        clean = rgba if has_transparency(rgba) else rgba.convert("RGB")
    else:
        clean = image.convert("RGB")
    # A new image from raw pixels carries no EXIF, XMP, ICC or comment blocks (GPS included).
    return Image.frombytes(clean.mode, clean.size, clean.tobytes())
