"""Encode images for storage and for the wire."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable

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

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour types of the modes drawings come in (8 bits a channel).
_PNG_COLOUR_TYPES = {"RGB": 2, "RGBA": 6}
# zlib level of drawn PNGs: above 3 zlib's cost doubles for a few hundred bytes at 80 px.
DRAWING_PNG_LEVEL = 3


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
        # The encoder's fastest setting, on one thread: a third of the instructions of speed 8
        # at 80 px for 4 % more bytes, and a request's thread is all a worker's share of the
        # cores anyway (bench/bench_instructions.py).
        image.save(out, "AVIF", quality=60, speed=10, max_threads=1)
    else:
        raise ValueError(f"cannot encode {fmt}")
    return out.getvalue()


def encode_drawing(image: Image.Image, fmt: str) -> bytes:
    """encode() for a generated default: a PNG is written here, every row unfiltered.

    Drawings are flat colours and hard or anti-aliased edges, where PNG's per-row filters buy
    little: Pillow tries each filter on every row, which cost about as much as drawing and
    answering the request together (an 80 px identicon: about 975,000 instructions in
    Pillow, 540,000 here, under callgrind). Sizes move both ways: an 80 px identicon is 426
    bytes instead of 357, a 512 px monsterid 16.7 kB instead of 20.5 kB. The pixels are the
    same (tests/avatars/test_encode.py decodes them back).
    """
    colour_type = _PNG_COLOUR_TYPES.get(image.mode)
    if fmt != "PNG" or colour_type is None:
        return encode(image, fmt)
    width, height = image.size
    stride = width * len(image.mode)
    pixels = image.tobytes()
    rows = b"".join(b"\x00" + pixels[at : at + stride] for at in range(0, len(pixels), stride))
    return _png(width, height, colour_type, rows)


def encode_rows(mode: str, width: int, height: int, runs: Iterable[tuple[bytes, int]]) -> bytes:
    """encode_drawing()'s PNG, byte for byte, of a drawing given as runs of identical rows
    (each row's pixel bytes, and how many times it repeats): no Image, no split into rows."""
    rows = b"".join((b"\x00" + row) * count for row, count in runs)
    return _png(width, height, _PNG_COLOUR_TYPES[mode], rows)


def _png(width: int, height: int, colour_type: int, rows: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows, DRAWING_PNG_LEVEL)),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
