"""Line charts as inline SVG, drawn on the server: no script, no chart library to keep up.

Plain Python without Django models: a chart is a title, a unit and series of (time, value)
points; the SVG scales them into a fixed box with labelled axes. Undefined points (NaN: no
traffic for a ratio, say) break the line instead of dropping it to zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.html import escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28
# Distinguishable for the common kinds of colour blindness (Okabe and Ito's palette).
COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")

# Units a chart's values come in, and how an axis label writes them.
PER_SECOND, SECONDS, RATIO, COUNT, PER_MINUTE = "per_second", "seconds", "ratio", "count", "per_min"


@dataclass(frozen=True)
class Line:
    label: str
    points: Sequence[tuple[float, float]]


def format_value(value: float, unit: str) -> str:
    if unit == RATIO:
        return f"{value * 100:.0f} %" if value >= 0.1 or value == 0 else f"{value * 100:.1f} %"
    if unit == SECONDS:
        if value == 0:
            return "0"
        if value < 1:
            return f"{value * 1000:.3g} ms"
        return f"{value:.3g} s"
    suffix = {PER_SECOND: "/s", PER_MINUTE: "/min"}.get(unit, "")
    if value >= 1000:
        return f"{value / 1000:.3g}k{suffix}"
    return f"{value:.3g}{suffix}"


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above the value."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def _time_ticks(start: float, end: float) -> list[float]:
    span = end - start
    every = next(
        (s for s in (60, 300, 600, 1800, 3600, 4 * 3600, 6 * 3600) if span / s <= 7), 86400
    )
    first = math.ceil(start / every) * every
    return [first + n * every for n in range(int((end - first) // every) + 1)]


def line_chart(
    *, title: str, unit: str, lines: Sequence[Line], start: float, end: float, chart_id: str
) -> str:
    """An accessible SVG: its title names the chart, its description the latest values."""
    values = [v for line in lines for _, v in line.points if not math.isnan(v)]
    top = 1.0 if unit == RATIO else _nice_ceiling(max(values, default=0.0) * 1.05)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (t - start) / max(end - start, 1.0) * plot_w

    def y(v: float) -> float:
        return TOP + plot_h - min(max(v / top, 0.0), 1.0) * plot_h

    latest = [
        f"{line.label}: {format_value(last[1], unit)}"
        for line in lines
        if (last := next((p for p in reversed(line.points) if not math.isnan(p[1])), None))
    ]
    description = "; ".join(latest) if latest else "no data in this range"
    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" data-points="{len(values)}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        level = y(top * fraction)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{level:.1f}" y2="{level:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{level + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#444">{escape(format_value(top * fraction, unit))}</text>'
        )
    for tick in _time_ticks(start, end):
        at = x(tick)
        label = datetime.fromtimestamp(tick, tz=UTC).strftime("%H:%M")
        parts.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 4}" '
            'stroke="#888"/>'
        )
        parts.append(
            f'<text x="{at:.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11" '
            f'fill="#444">{label}</text>'
        )
    if not values:
        parts.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            'font-size="13" fill="#666">No data in this range</text>'
        )
    for number, line in enumerate(lines):
        colour = COLOURS[number % len(COLOURS)]
        for run in _defined_runs(line.points):
            if len(run) == 1:
                t, v = run[0]
                parts.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2" fill="{colour}"/>')
                continue
            coordinates = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in run)
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" '
                f'points="{coordinates}"><title>{escape(line.label)}</title></polyline>'
            )
    parts.append("</svg>")
    return "".join(parts)


def legend(lines: Sequence[Line]) -> list[tuple[str, str]]:
    """(colour, label) per line, for the HTML legend beside the chart."""
    return [(COLOURS[n % len(COLOURS)], line.label) for n, line in enumerate(lines)]


def _defined_runs(points: Sequence[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if math.isnan(point[1]):
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]
