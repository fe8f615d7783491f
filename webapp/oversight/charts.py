"""Charts drawn on the server as SVG geometry (webapp/templates/statistics/_charts.html draws
them): horizontal bars, a population pyramid and a line per series. They print, work without
JavaScript and load nothing from elsewhere. Every mark carries its key and value, so a test
(and a screen reader, through each mark's title) can read the chart back against its table."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

# User units; the SVG scales to its box. Narrow enough that a phone shrinks it little.
WIDTH = 440
BAR_H, GAP, LABEL_W, VALUE_W = 24, 8, 130, 56
TOP = 8


def nice_max(value: int) -> int:
    """A round upper end for an axis: 1, 2 or 5 times a power of ten, at least `value`."""
    if value <= 0:
        return 1
    power = 10 ** int(math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


@dataclass
class Bar:
    key: str
    label: str
    value: int
    x: float
    y: float
    width: float
    share: float  # of the chart's total, 0..1


@dataclass
class BarChart:
    key: str
    bars: list[Bar]
    width: int
    height: int
    plot_x: int
    plot_w: int
    total: int
    bar_h: int = BAR_H


def bars(key: str, rows: Sequence[tuple[str, str, int]], width: int = WIDTH, label_w: int = LABEL_W) -> BarChart:
    """rows: (key, label, value), drawn top to bottom."""
    total = sum(v for _k, _l, v in rows)
    top = nice_max(max((v for _k, _l, v in rows), default=0))
    plot_w = width - label_w - VALUE_W
    out = [Bar(k, label, v, label_w, TOP + i * (BAR_H + GAP), plot_w * v / top, v / total if total else 0.0)
           for i, (k, label, v) in enumerate(rows)]
    return BarChart(key, out, width, TOP * 2 + len(rows) * (BAR_H + GAP), label_w, plot_w, total)


@dataclass
class PyramidRow:
    band: str
    male: int
    female: int
    y: float
    male_w: float
    female_w: float


@dataclass
class PyramidChart:
    rows: list[PyramidRow]
    width: int
    height: int
    centre: float  # x of the middle axis
    half: float  # width of one side
    label_w: int
    bar_h: int = BAR_H


def pyramid(bands: Sequence[str], male: Sequence[int], female: Sequence[int], width: int = 560) -> PyramidChart:
    """Oldest band at the top, men to the left, women to the right, one scale for both."""
    label_w = 60
    half = (width - label_w) / 2 - 50
    centre = width / 2
    top = nice_max(max([*male, *female, 0]))
    rows = []
    for i, (band, m, f) in enumerate(reversed(list(zip(bands, male, female, strict=True)))):
        rows.append(PyramidRow(band, m, f, TOP + 18 + i * (BAR_H + 4), half * m / top, half * f / top))
    return PyramidChart(rows, width, TOP * 2 + 18 + len(rows) * (BAR_H + 4), centre, half, label_w)


@dataclass
class Series:
    key: str
    label: str
    values: list[int]
    points: str  # "x,y x,y ..." for a polyline
    dots: list[tuple[float, float, int]] = field(default_factory=list)


@dataclass
class LineChart:
    labels: list[str]
    xs: list[float]
    series: list[Series]
    ticks: list[tuple[float, int]]  # (y, value) of the axis lines
    width: int
    height: int
    left: int
    bottom: float


def lines(labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[int]]], width: int = 560,
          height: int = 260) -> LineChart:
    left, right, top, bottom = 56, 16, 12, height - 40
    upper = nice_max(max((v for _k, _l, vs in series for v in vs), default=0))
    n = len(labels)
    step = (width - left - right) / max(1, n - 1)
    xs = [left + (i * step if n > 1 else (width - left - right) / 2) for i in range(n)]

    def y(value: int) -> float:
        return bottom - (bottom - top) * value / upper

    out = []
    for key, label, values in series:
        dots = [(xs[i], y(v), v) for i, v in enumerate(values)]
        out.append(Series(key, label, list(values), " ".join(f"{x:.1f},{yy:.1f}" for x, yy, _v in dots), dots))
    ticks = [(y(upper * k // 4), upper * k // 4) for k in range(5)]
    return LineChart(list(labels), xs, out, ticks, width, height, left, bottom)
