"""Drawing helpers: a resolution-free pen for vector styles, upscaling for pixel-art styles."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw, ImageOps

from avatars.contract import MAX_SIZE

Box = tuple[float, float, float, float]
Point = tuple[float, float]
Ink = tuple[int, ...]

SMALL_CANVAS = 256
# Large sizes are drawn at their own size, not doubled: no canvas exceeds the largest size served.
MAX_CANVAS = MAX_SIZE


class Pen:
    """ImageDraw in a 0..100 square coordinate space, so each drawing is written once.

    ``zoom`` enlarges the drawing around ``anchor`` (in the same units), to fill the frame
    with a figure that was sketched with room to spare.
    """

    def __init__(self, image: Image.Image, zoom: float = 1, anchor: Point = (50, 50)) -> None:
        self.draw = ImageDraw.Draw(image)
        self.k = image.width / 100 * zoom
        self.ox = anchor[0] * (1 - zoom) * image.width / 100
        self.oy = anchor[1] * (1 - zoom) * image.width / 100

    def _box(self, box: Box) -> Box:
        x0, y0, x1, y1 = box
        k = self.k
        return x0 * k + self.ox, y0 * k + self.oy, x1 * k + self.ox, y1 * k + self.oy

    def _points(self, points: Sequence[Point]) -> list[Point]:
        return [(x * self.k + self.ox, y * self.k + self.oy) for x, y in points]

    def _width(self, width: float) -> int:
        return max(1, round(width * self.k))

    def ellipse(
        self, box: Box, fill: Ink | None = None, outline: Ink | None = None, width: float = 0
    ) -> None:
        self.draw.ellipse(self._box(box), fill, outline, self._width(width))

    def circle(
        self,
        x: float,
        y: float,
        r: float,
        fill: Ink | None = None,
        outline: Ink | None = None,
        width: float = 0,
    ) -> None:
        self.ellipse((x - r, y - r, x + r, y + r), fill, outline, width)

    def rect(
        self,
        box: Box,
        fill: Ink | None = None,
        radius: float = 0,
        outline: Ink | None = None,
        width: float = 0,
    ) -> None:
        self.draw.rounded_rectangle(
            self._box(box), round(radius * self.k), fill, outline, self._width(width)
        )

    def polygon(self, points: Sequence[Point], fill: Ink) -> None:
        self.draw.polygon(self._points(points), fill)

    def line(self, points: Sequence[Point], fill: Ink, width: float) -> None:
        self.draw.line(self._points(points), fill, self._width(width), joint="curve")
        # Round caps, so thick strokes (limbs, brows) do not end in hard corners.
        r = width / 2
        for x, y in (points[0], points[-1]):
            self.circle(x, y, r, fill)

    def arc(self, box: Box, start: float, end: float, fill: Ink, width: float) -> None:
        self.draw.arc(self._box(box), start, end, fill, self._width(width))

    def chord(self, box: Box, start: float, end: float, fill: Ink) -> None:
        self.draw.chord(self._box(box), start, end, fill)


def render_vector(
    size: int,
    mode: str,
    background: Ink,
    paint: Callable[[Pen], None],
    zoom: float = 1,
    anchor: Point = (50, 50),
) -> Image.Image:
    """Paint on an oversized canvas and resample down.

    ImageDraw does not anti-alias, so drawing larger and downsampling is what smooths the
    edges; small sizes share one 256 px canvas so thin features survive the reduction.
    Colours must be opaque when ``mode`` is "RGBA" (see below).
    """
    canvas = SMALL_CANVAS if size <= SMALL_CANVAS // 2 else min(2 * size, MAX_CANVAS)
    # With opaque shapes on a transparent background the drawing is already premultiplied,
    # so drawing in "RGBa" skips the premultiply round trip Pillow would otherwise make
    # around every RGBA resample (the largest single cost at big sizes).
    work_mode = "RGBa" if mode == "RGBA" else mode
    image = Image.new(work_mode, (canvas, canvas), background)
    paint(Pen(image, zoom, anchor))
    if canvas == 2 * size:
        image = image.reduce(2)
    elif canvas != size:
        image = image.resize((size, size), Image.Resampling.LANCZOS)
    return image.convert(mode) if image.mode != mode else image


def upscale_grid(grid: Image.Image, size: int, margin: float, background: Ink) -> Image.Image:
    """Blow a square pixel grid up with hard edges, centred, ``margin`` cells on each side.

    Cells are a whole number of pixels, so no pixel looks fatter than its neighbour; the
    margin gives way first when the size is too small for both.
    """
    cells = grid.width
    cell = min(max(1, round(size / (cells + 2 * margin))), size // cells)
    if cell == 0:  # smaller than the grid itself: just sample it
        return grid.resize((size, size), Image.Resampling.NEAREST)
    image = Image.new(grid.mode, (size, size), background)
    offset = (size - cell * cells) // 2
    image.paste(grid.resize((cell * cells,) * 2, Image.Resampling.NEAREST), (offset, offset))
    return image


def mirror_left(image: Image.Image) -> Image.Image:
    """Make an image exactly left-right symmetric, whatever rounding NEAREST did."""
    half = image.width // 2
    if half:
        left = image.crop((0, 0, half, image.height))
        image.paste(ImageOps.mirror(left), (image.width - half, 0))
    return image
