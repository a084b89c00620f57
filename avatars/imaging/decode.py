"""Turn untrusted upload bytes into a clean, upright, metadata-free image, or a clear refusal."""

from __future__ import annotations

import io
import math
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from avatars.imaging.square import MASTER_MAX_EDGE, CropBox, centred_square, clamp_crop

# iPhones save HEIC; the plugin teaches Pillow to read it (AVIF Pillow reads by itself).
register_heif_opener()

# Formats sniffed from the content, never from the file name.
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF"})
FORMATS_HINT = gettext_lazy("Use a JPEG, PNG, GIF, WebP, HEIC or AVIF file.")


def megabytes(size: float, digits: int) -> str:
    """A byte count in MB as the visitor's language writes numbers."""
    return number_format(size / 1_048_576, digits)


def too_large_message(size: int, limit: int) -> str:
    """What a file over the upload limit is told, wherever it is caught."""
    return _("The file is %(size)s MB; the limit is %(limit)s MB.") % {
        "size": megabytes(size, 1),
        "limit": megabytes(limit, 0),
    }


# Pillow's own bomb guard warns at 89 Mpx and fails at twice that; our own lower cap is
# checked from the header, before a single pixel is decoded.
DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# 16-bit greyscale PNGs decode into these modes, with values up to 65535.
SIXTEEN_BIT_GREY = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
# What ImageOps.exif_transpose applies for each EXIF orientation tag.
EXIF_TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# What square.rotate_quarter_turns applies for 1, 2 and 3 clockwise quarter turns.
QUARTER_TURN_TRANSPOSES = {
    1: Image.Transpose.ROTATE_270,
    2: Image.Transpose.ROTATE_180,
    3: Image.Transpose.ROTATE_90,
}
SWAPS_AXES = frozenset(
    {
        Image.Transpose.ROTATE_90,
        Image.Transpose.ROTATE_270,
        Image.Transpose.TRANSPOSE,
        Image.Transpose.TRANSVERSE,
    }
)
# Pillow's LANCZOS reaches three source pixels (at scale 1) either side of each output pixel.
LANCZOS_SUPPORT = 3.0
# Source pixels one band of the master's resampling reads: 16 MB of RGB at a time.
BAND_PIXELS = 4_000_000
# Uploads decode at this nice value (0 is normal, 19 the lowest priority), on this thread.
DECODE_NICENESS = 10
DECODE_THREAD_NAME = "upload-decode"


# Why an upload was refused, for the metrics (avatars_uploads_refused_total): a short,
# bounded word per check below, never the message or anything of the file.
EMPTY = "empty"
TOO_LARGE = "too_large"
TOO_MANY_PIXELS = "too_many_pixels"
UNREADABLE = "unreadable"
METADATA = "metadata"
FORMAT = "format"
CORRUPT = "corrupt"
REFUSAL_REASONS = (EMPTY, TOO_LARGE, TOO_MANY_PIXELS, UNREADABLE, METADATA, FORMAT, CORRUPT)


class UploadRejected(ValueError):
    """The upload cannot become an avatar; the message is written for the person uploading,
    the reason (one of REFUSAL_REASONS) for the operator."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class UploadTooLarge(UploadRejected):
    """Over the byte or pixel limit: the API answers 413 for these, 400 for the others."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS


def decode_upload(data: bytes, limits: Limits = Limits()) -> Image.Image:
    """Validate and decode an upload at full size: first frame, EXIF orientation applied, RGB
    or RGBA. For storing an avatar use `decode_master`, which never holds more than the
    decoded source at full size."""
    image = _opened(data, limits)
    with _corrupt_is_refused():
        return _run_decode(lambda: _full_size(image))


def decode_master(
    data: bytes,
    limits: Limits = Limits(),
    *,
    crop: CropBox | None = None,
    quarter_turns: int = 0,
) -> Image.Image:
    """Validate an upload and make its square master, at most MASTER_MAX_EDGE px: the same
    pixels as `decode_upload`, then `rotate_quarter_turns`, then `make_square`, without the
    full-size copies. `crop` is in the coordinates of the upright image after the turns.

    A 48 Mpx photo decodes to about 190 MB of pixels; turning, converting and cropping that
    at full size used to cost four more copies (about 870 MB and 1.5 s of CPU). Here
    JPEGs decode at the smallest DCT scale that still covers the master, the crop box is
    mapped back to the stored pixels so the region is resampled (and converted) in strips
    straight from the decoded source, and the orientation and turns are applied to the
    master only. bench/bench_uploads.py measures it.
    """
    image = _opened(data, limits)
    with _corrupt_is_refused():
        return _run_decode(lambda: _master(image, crop, quarter_turns % 4))


def _opened(data: bytes, limits: Limits) -> Image.Image:
    """The image with its header read and checked; no pixel decoded yet."""
    if not data:
        raise UploadRejected(_("The file is empty."), reason=EMPTY)
    if len(data) > limits.max_bytes:
        raise UploadTooLarge(too_large_message(len(data), limits.max_bytes), reason=TOO_LARGE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard fires on the header alone, before our finer limit below could.
        raise UploadTooLarge(
            _("The image's dimensions are far too large; the limit is %(limit)s megapixels.")
            % {"limit": number_format(limits.max_pixels / 1_000_000, 0)},
            reason=TOO_MANY_PIXELS,
        ) from None
    except UnidentifiedImageError:
        raise UploadRejected(
            _("This file is not an image we can read. %(hint)s") % {"hint": FORMATS_HINT},
            reason=UNREADABLE,
        ) from None
    except OSError:
        # A header cut short (a JPEG segment longer than what is left): Pillow fails while
        # reading it, before any pixel.
        raise UploadRejected(
            _("The image is truncated or corrupt; try saving it again."), reason=CORRUPT
        ) from None
    except ValueError:
        # Pillow refuses to inflate more than a megabyte of a PNG's colour profile or text
        # (iCCP, zTXt, iTXt) before the image data, with a bare ValueError.
        raise UploadRejected(
            _(
                "The image carries a colour profile or text block too large to read; "
                "save it again without metadata."
            ),
            reason=METADATA,
        ) from None
    if image.format not in ACCEPTED_FORMATS:
        raise UploadRejected(
            _("%(format)s images are not accepted. %(hint)s")
            % {"format": image.format, "hint": FORMATS_HINT},
            reason=FORMAT,
        )
    width, height = image.size
    if width * height > limits.max_pixels:
        raise UploadTooLarge(
            _("The image is %(width)d x %(height)d pixels; the limit is %(limit)s megapixels.")
            % {
                "width": width,
                "height": height,
                "limit": number_format(limits.max_pixels / 1_000_000, 0),
            },
            reason=TOO_MANY_PIXELS,
        )
    if width < 1 or height < 1:
        raise UploadRejected(_("The image has no pixels."), reason=EMPTY)
    return image


@contextmanager
def _corrupt_is_refused() -> Iterator[None]:
    try:
        yield
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UploadRejected(
            _("The image is truncated or corrupt; try saving it again."), reason=CORRUPT
        ) from None


def _full_size(image: Image.Image) -> Image.Image:
    image.seek(0)  # animated images become their first frame
    image.load()
    return normalise_mode(ImageOps.exif_transpose(image))


def _master(image: Image.Image, crop: CropBox | None, turns: int) -> Image.Image:
    image.seek(0)
    width, height = image.size
    # The square's edge is the same however the image is turned, so the scale is known
    # before a pixel is decoded (orientation can only be read reliably after).
    edge = max(1, min(crop.edge, width, height)) if crop else min(width, height)
    target = min(edge, MASTER_MAX_EDGE)
    shrink = 1.0
    if image.format == "JPEG" and edge >= 2 * target:
        # The decoder scales by 1/2, 1/4 or 1/8 while decoding, never below the size asked.
        asked = (max(1, -(-width * target // edge)), max(1, -(-height * target // edge)))
        drafted = image.draft(image.mode, asked)
        if drafted is not None:
            shrink = width / drafted[1][2]
    image.load()
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    transposes = [EXIF_TRANSPOSES[orientation]] if orientation in EXIF_TRANSPOSES else []
    if turns:
        transposes.append(QUARTER_TURN_TRANSPOSES[turns])
    # Where the square lies in the upright, turned image, then in the stored pixels.
    sizes = [(width, height)]
    for transpose in transposes:
        sizes.append(sizes[-1][::-1] if transpose in SWAPS_AXES else sizes[-1])
    shown_width, shown_height = sizes[-1]
    box = clamp_crop(crop, shown_width, shown_height) if crop else None
    box = box or centred_square(shown_width, shown_height)
    region: tuple[float, float, float, float] = (
        box.left,
        box.top,
        box.left + box.edge,
        box.top + box.edge,
    )
    for transpose, size in zip(reversed(transposes), reversed(sizes[1:]), strict=True):
        region = _undo_transpose(transpose, size, region)
    scaled = (region[0] / shrink, region[1] / shrink, region[2] / shrink, region[3] / shrink)
    master = _resample_region(image, scaled, target)
    for transpose in transposes:
        master = master.transpose(transpose)
    return master


def _undo_transpose(
    transpose: Image.Transpose, size: tuple[int, int], box: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """The box, given in an image of `size` that `transpose` made, in the image before it."""
    width, height = size
    corners = [(box[0], box[1]), (box[2], box[3])]
    if transpose == Image.Transpose.FLIP_LEFT_RIGHT:
        mapped = [(width - x, y) for x, y in corners]
    elif transpose == Image.Transpose.FLIP_TOP_BOTTOM:
        mapped = [(x, height - y) for x, y in corners]
    elif transpose == Image.Transpose.ROTATE_180:
        mapped = [(width - x, height - y) for x, y in corners]
    elif transpose == Image.Transpose.ROTATE_90:  # counter-clockwise; undone clockwise
        mapped = [(height - y, x) for x, y in corners]
    elif transpose == Image.Transpose.ROTATE_270:
        mapped = [(y, width - x) for x, y in corners]
    elif transpose == Image.Transpose.TRANSPOSE:
        mapped = [(y, x) for x, y in corners]
    else:  # TRANSVERSE
        mapped = [(height - y, width - x) for x, y in corners]
    (x0, y0), (x1, y1) = mapped
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _resample_region(
    image: Image.Image, box: tuple[float, float, float, float], edge: int
) -> Image.Image:
    """The box of the decoded image as an `edge` px square in RGB or RGBA, metadata-free.

    Band by band of output rows: each band crops only the source rows it reads (the filter's
    reach included, so the result is the one a single resize of the cropped box gives),
    converts them to the working mode, and resamples them. Nothing full-size is ever copied.
    """
    left, top, right, bottom = box
    scale = (bottom - top) / edge
    mode = _working_mode(image)
    out = Image.new(mode, (edge, edge))
    # Each band also reads the rows its filter reaches beyond it, but never past the box: the
    # filter stops at the box's edges as it stops at the edges of a cropped image.
    reach = math.ceil(LANCZOS_SUPPORT * max(scale, 1.0)) + 1
    x0, x1 = math.floor(left), math.ceil(right)
    rows_per_band = max(1, BAND_PIXELS // max(1, round((x1 - x0) * scale)))
    for first in range(0, edge, rows_per_band):
        last = min(edge, first + rows_per_band)
        band_top, band_bottom = top + first * scale, top + last * scale
        y0 = max(math.floor(top), math.floor(band_top) - reach)
        y1 = min(math.ceil(bottom), math.ceil(band_bottom) + reach)
        band = _in_mode(image.crop((x0, y0, x1, y1)), mode, image.info)
        if scale == 1 and left == int(left) and band_top == int(band_top):
            offset_x, offset_y = int(left) - x0, int(band_top) - y0
            piece = band.crop((offset_x, offset_y, offset_x + edge, offset_y + last - first))
        else:
            piece = band.resize(
                (edge, last - first),
                Image.Resampling.LANCZOS,
                box=(left - x0, band_top - y0, right - x0, band_bottom - y0),
            )
        out.paste(piece, (0, first))
    if mode == "L":
        return out.convert("RGB")
    if mode == "RGBA" and not has_transparency(out):
        return out.convert("RGB")
    return out


def _working_mode(image: Image.Image) -> str:
    """RGB or RGBA as `normalise_mode` decides, or L for grey sources (turned RGB at the end,
    after resampling a third of the bytes)."""
    if image.mode in SIXTEEN_BIT_GREY or image.mode in {"L", "1"}:
        return "L"
    transparent = "transparency" in image.info
    if image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or (
        image.mode in {"P", "RGB"} and transparent
    ):
        return "RGBA"
    return "RGB"


def _in_mode(band: Image.Image, mode: str, info: dict[str | tuple[int, int], Any]) -> Image.Image:
    if band.mode in SIXTEEN_BIT_GREY:
        # A plain convert("L") clips 16-bit values to 255 and turns the picture white.
        return band.convert("I").point(lambda value: value / 256).convert("L")
    if band.mode == mode:
        return band
    if "transparency" in info and "transparency" not in band.info:
        band.info["transparency"] = info["transparency"]
    return band.convert(mode)


def _run_decode(work: Callable[[], Image.Image]) -> Image.Image:
    """Run the decode on this process's one decoding thread, at a lower CPU priority.

    A big decode holds a core for about a second. One at a time per worker process bounds the
    memory they take together, and the lower priority keeps the avatar endpoint's requests
    (other threads of the same gunicorn workers) answering while uploads decode.
    """
    if threading.current_thread().name.startswith(DECODE_THREAD_NAME):
        return work()  # already on it: waiting for itself would never end
    return _decoder().submit(work).result()


_executor: tuple[int, ThreadPoolExecutor] | None = None
_executor_lock = threading.Lock()


def _decoder() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        # gunicorn preloads the app and forks: a pool made in the parent has no thread here.
        if _executor is None or _executor[0] != os.getpid():
            pool = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=DECODE_THREAD_NAME, initializer=_lower_priority
            )
            _executor = (os.getpid(), pool)
        return _executor[1]


def _lower_priority() -> None:
    # On Linux the nice value belongs to the thread: only this decoding thread yields.
    if sys.platform == "linux":
        # A sandbox may refuse it; decoding then keeps the default priority.
        with suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), DECODE_NICENESS)


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
    # A new image carries no EXIF, XMP, ICC or comment blocks (GPS included).
    return _metadata_free(clean)


def _metadata_free(image: Image.Image) -> Image.Image:
    fresh = Image.new(image.mode, image.size)
    fresh.paste(image)
    return fresh
