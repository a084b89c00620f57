"""avatars.imaging.square: resizing keeps renditions as faithful as LANCZOS would."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from avatars.imaging import encode, square
from bench.photos import photo

MASTER_EDGE = 1024
# Sizes whose preview-to-target ratio (after the JPEG decoder's own scaling) spans 1 to 2.
SIZES = (24, 40, 48, 64, 65, 80, 100, 120, 128, 150, 200, 240, 254)
# How much closer to the ideal a LANCZOS rendition may be than ours, in dB of PSNR.
TOLERANCE_DB = 0.75


def _lines(edge: int) -> Image.Image:
    """The worst case for a softer filter: thin, sharp, coloured diagonals."""
    image = Image.new("RGB", (edge, edge), "white")
    draw = ImageDraw.Draw(image)
    for x in range(0, edge, edge // 55):
        draw.line((x, 0, edge - x, edge), fill=(x % 256, 40, 200), width=2)
    return image


def _psnr(a: Image.Image, b: Image.Image) -> float:
    rms = ImageStat.Stat(ImageChops.difference(a, b)).rms
    mse = sum(channel * channel for channel in rms) / len(rms)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def _decoded(source: bytes, size: int) -> Image.Image:
    # What render_source hands resize_square: the preview, scaled by the decoder where it can.
    image = Image.open(io.BytesIO(source))
    image.draft("RGB", (size, size))
    image.load()
    return image


@pytest.mark.parametrize("kind", ["photo", "lines"])
def test_renditions_from_the_preview_are_as_close_to_the_ideal_as_lanczos_ones(kind):
    master = photo(MASTER_EDGE, seed=3) if kind == "photo" else _lines(MASTER_EDGE)
    preview = square.resize_square(master, square.PREVIEW_EDGE)
    source = encode.encode(preview, "JPEG", for_storage=True)
    for size in SIZES:
        ideal = master.resize((size, size), Image.Resampling.LANCZOS)
        decoded = _decoded(source, size)
        ours = square.resize_square(decoded, size)
        lanczos = decoded.resize((size, size), Image.Resampling.LANCZOS)
        assert ours.size == (size, size)
        assert _psnr(ideal, ours) >= _psnr(ideal, lanczos) - TOLERANCE_DB, size


@pytest.mark.parametrize(
    ("source", "edge", "resample"),
    [
        (256, 129, Image.Resampling.BICUBIC),  # the preview, shrunk by less than half
        (256, 255, Image.Resampling.BICUBIC),
        (128, 65, Image.Resampling.BICUBIC),  # the decoder's 1/2 of the preview
        (128, 64, Image.Resampling.LANCZOS),  # by half: no longer a small shrink
        (64, 40, Image.Resampling.LANCZOS),  # the decoder's 1/4: too coarse a source
    ],
)
def test_small_shrinks_of_large_enough_sources_are_bicubic(source, edge, resample):
    image = photo(source, seed=6)
    expected = image.resize((edge, edge), resample, reducing_gap=2.0)
    assert ImageChops.difference(square.resize_square(image, edge), expected).getbbox() is None


def test_large_reductions_keep_lanczos():
    # The upload's preview is an eightfold shrink: a softer filter there would blur every
    # rendition made from it.
    master = _lines(2048)
    preview = square.resize_square(master, square.PREVIEW_EDGE)
    lanczos = master.resize(
        (square.PREVIEW_EDGE, square.PREVIEW_EDGE), Image.Resampling.LANCZOS, reducing_gap=2.0
    )
    assert ImageChops.difference(preview, lanczos).getbbox() is None


def test_enlarging_and_the_same_size():
    small = photo(64, seed=5)
    assert square.resize_square(small, 64) is small
    assert square.resize_square(small, 100).size == (100, 100)
