"""Encode images for storage and for the wire."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable, Sequence
from functools import lru_cache

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
# Palette drawings up to this many bytes of rows are deflated with a small zlib state
# (encode_palette_rows): cheaper up to 128 px identicons (2.2 kB), dearer from 256 px (8.5 kB).
SMALL_ZLIB_INPUT = 4096


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


def encode_palette_rows(
    width: int,
    height: int,
    palette: Sequence[tuple[int, int, int]],
    runs: Iterable[tuple[Sequence[tuple[int, int]], int]],
) -> bytes:
    """A PNG of a drawing in a few flat colours given as runs of identical rows (each row as
    (palette index, that many pixels) runs, and how many times the row repeats): a palette
    image of the fewest bits a pixel (1 for two colours), every row unfiltered.

    An 80 px identicon is about 100 bytes this way instead of 426 as RGB, and its zlib stream
    costs a fifth: deflating 19 kB of RGB rows (and setting up zlib's default 256 kB of state
    for them) was most of a drawn identicon's work under callgrind.
    """
    depth = next(bits for bits in (1, 2, 4, 8) if len(palette) <= 1 << bits)
    data = b"".join(_packed_row(tuple(row), width, depth) * count for row, count in runs)
    header = struct.pack(">IIBBBBB", width, height, depth, 3, 0, 0, 0)
    # zlib's default state (a 32 kB window, 128 kB of hash chains) costs more to set up than a
    # small drawing costs to deflate: a small one gets a 1 kB window, which still reaches the
    # row above (a drawing's rows repeat), for the same bytes give or take a few.
    small = len(data) <= SMALL_ZLIB_INPUT
    compressor = zlib.compressobj(
        DRAWING_PNG_LEVEL, zlib.DEFLATED, *((10, 2) if small else (15, 8))
    )
    compressed = compressor.compress(data) + compressor.flush()
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"PLTE", b"".join(bytes(colour) for colour in palette)),
            _png_chunk(b"IDAT", compressed),
            _png_chunk(b"IEND", b""),
        )
    )


# Distinct rows a process remembers packed (a drawing has a handful per size; a few sizes are
# nearly all traffic).
@lru_cache(maxsize=4096)
def _packed_row(row: tuple[tuple[int, int], ...], width: int, depth: int) -> bytes:
    """One unfiltered PNG row of palette indices, `depth` bits each, from (index, n) runs."""
    ones = (1 << depth) - 1
    value = 0
    for index, n in row:
        # n pixels of `index`: index times 0b0..01 repeated n times.
        value = value << n * depth | index * (((1 << n * depth) - 1) // ones)
    padding = -width * depth % 8
    return b"\x00" + (value << padding).to_bytes((width * depth + padding) // 8, "big")


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
