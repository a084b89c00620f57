"""Square crops, rotation and resizing, chosen by measurement (see bench/bench_renditions.py)."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from avatars.contract import MAX_SIZE

# The largest size the API serves; a master bigger than this would only cost decode time.
MASTER_MAX_EDGE = MAX_SIZE
# Renditions up to this edge come from the small copy, so they never decode the master.
PREVIEW_EDGE = 256


@dataclass(frozen=True)
class CropBox:
    """A square selection in the coordinates of the upright image."""

    left: int
    top: int
    edge: int


def centred_square(width: int, height: int) -> CropBox:
    edge = min(width, height)
    return CropBox(left=(width - edge) // 2, top=(height - edge) // 2, edge=edge)


def clamp_crop(box: CropBox, width: int, height: int) -> CropBox:
    """Keep a client-supplied selection inside the image and square; never trust its numbers."""
    edge = max(1, min(box.edge, width, height))
    left = min(max(0, box.left), width - edge)
    top = min(max(0, box.top), height - edge)
    return CropBox(left=left, top=top, edge=edge)


def rotate_quarter_turns(image: Image.Image, quarter_turns: int) -> Image.Image:
    """Rotate clockwise by 90° steps; the only rotation the crop screen offers."""
    turns = quarter_turns % 4
    if turns == 0:
        return image
    transposes = {
        1: Image.Transpose.ROTATE_270,
        2: Image.Transpose.ROTATE_180,
        3: Image.Transpose.ROTATE_90,
    }
    return image.transpose(transposes[turns])


def make_square(image: Image.Image, box: CropBox | None = None) -> Image.Image:
    """Crop to the box (centred square when none) and cap at the largest served size."""
    width, height = image.size
    box = clamp_crop(box, width, height) if box else centred_square(width, height)
    square = image.crop((box.left, box.top, box.left + box.edge, box.top + box.edge))
    if square.width > MASTER_MAX_EDGE:
        square = square.resize((MASTER_MAX_EDGE, MASTER_MAX_EDGE), Image.Resampling.LANCZOS)
    return square


# A shrink by less than half from a source of at least BICUBIC_FROM_EDGE px is BICUBIC: measured
# against a LANCZOS from the full-size photo, such renditions from the 256 px preview (at full
# scale or the JPEG decoder's 1/2) come within 0.7 dB of LANCZOS ones on thin sharp lines (0.25
# dB on average) and closer than them on photos, for a third less resampling work; and they are
# the dear ones (65 to 255 px). From the decoder's coarser 1/4 and 1/8, LANCZOS's sharper
# kernel still gains 0.7 to 1.5 dB, and those small renditions cost little.
# tests/avatars/test_square.py holds this.
BICUBIC_BELOW_RATIO = 2
BICUBIC_FROM_EDGE = 128


def resize_square(image: Image.Image, edge: int) -> Image.Image:
    """Resize a square image. Shrinking uses reducing_gap, which pre-shrinks by whole factors
    (measured about 6x faster than a plain LANCZOS from a full-size master, with no visible
    difference); a small shrink of a large enough source is BICUBIC (above)."""
    if image.width == edge:
        return image
    if edge < image.width:
        if BICUBIC_FROM_EDGE <= image.width < BICUBIC_BELOW_RATIO * edge:
            return image.resize((edge, edge), Image.Resampling.BICUBIC)
        return image.resize((edge, edge), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return image.resize((edge, edge), Image.Resampling.LANCZOS)
