import pytest
from PIL import Image, ImageOps

from avatars.defaults.canvas import Pen, mirror_left, render_vector, upscale_grid
from tests.pixels import colours

RED = (255, 0, 0)


@pytest.mark.parametrize("size", [1, 16, 80, 128, 129, 256, 300, 512, 1024, 2048])
def test_render_vector_returns_requested_size_and_mode(size):
    image = render_vector(size, "RGBA", (0, 0, 0, 0), lambda pen: pen.circle(50, 50, 30, RED))
    assert image.size == (size, size)
    assert image.mode == "RGBA"


def test_pen_maps_0_to_100_onto_the_whole_canvas():
    image = render_vector(80, "RGB", (0, 0, 0), lambda pen: pen.rect((0, 0, 100, 100), RED))
    assert image.getcolors() == [(80 * 80, RED)]


def test_pen_zoom_keeps_the_anchor_in_place_and_enlarges_around_it():
    def paint(pen):
        pen.rect((40, 40, 60, 60), RED)

    plain = render_vector(100, "RGB", (0, 0, 0), paint)
    zoomed = render_vector(100, "RGB", (0, 0, 0), paint, zoom=2, anchor=(50, 50))
    assert zoomed.getpixel((50, 50)) == RED
    assert plain.getpixel((32, 50)) == (0, 0, 0)
    assert zoomed.getpixel((32, 50)) == RED


def test_render_vector_smooths_edges_when_downsampling():
    image = render_vector(80, "RGB", (0, 0, 0), lambda pen: pen.circle(50, 50, 40, RED))
    reds = {r for _, (r, _, _) in colours(image)}
    assert any(0 < r < 255 for r in reds)


def test_pen_line_has_round_caps():
    image = Image.new("RGB", (100, 100))
    Pen(image).line([(20, 50), (80, 50)], RED, 10)
    assert image.getpixel((16, 50)) == RED  # cap reaches half the width past the end
    assert image.getpixel((16, 45)) == (0, 0, 0)  # but is rounded, not square


def grid_of(colours, width):
    grid = Image.new("RGB", (width, len(colours) // width))
    grid.putdata(colours)
    return grid


def test_upscale_grid_uses_whole_pixel_cells_inside_a_margin():
    colours = [(i * 10, 0, 0) for i in range(25)]
    image = upscale_grid(grid_of(colours, 5), 60, 0.5, (0, 0, 255))
    assert image.size == (60, 60)
    # 60 px / 6 cells -> 10 px cells, 5 px margin
    assert image.getpixel((2, 2)) == (0, 0, 255)
    for i, colour in enumerate(colours):
        row, col = divmod(i, 5)
        cell = image.crop((5 + col * 10, 5 + row * 10, 15 + col * 10, 15 + row * 10))
        assert cell.getcolors() == [(100, colour)]


@pytest.mark.parametrize("size", [1, 2, 4, 5, 7])
def test_upscale_grid_smaller_than_margin_still_fills_the_size(size):
    image = upscale_grid(grid_of([RED] * 25, 5), size, 0.5, (0, 0, 255))
    assert image.size == (size, size)
    assert RED in {c for _, c in colours(image)}


def test_mirror_left_makes_any_image_symmetric():
    image = Image.new("RGB", (7, 3))
    image.putdata([(i * 9, 0, 0) for i in range(21)])
    result = mirror_left(image)
    assert result.tobytes() == ImageOps.mirror(result).tobytes()
