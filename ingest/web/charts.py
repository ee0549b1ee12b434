"""The one SVG chart helper (pure): chart geometry as data, drawn by ``charts.html.j2``.

Three shapes are needed: a bar chart (the quality report's daily volume), a heat map (the
status page's coverage, rows by columns) and a scatter plot (the ICB activity page: a point
per practice). They come out as an :class:`SvgChart` of rectangles, circles, lines and text;
the template's ``svg_chart`` macro draws any of them with every label escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str = ""
    css_class: str = ""
    rx: float = 0
    data: tuple[tuple[str, str], ...] = ()  # data-* attributes (name without "data-", value)


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float = 1


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float
    text: str
    fill: str = "#4a5668"
    anchor: str = "start"
    size: int = 11
    rotate: float = 0  # degrees about (x, y)


@dataclass(frozen=True, slots=True)
class Circle:
    cx: float
    cy: float
    r: float
    fill: str
    title: str = ""
    css_class: str = ""
    stroke: str = ""
    data: tuple[tuple[str, str], ...] = ()  # data-* attributes (name without "data-", value)


@dataclass(frozen=True, slots=True)
class SvgChart:
    width: int
    height: int
    label: str  # the accessible name (aria-label)
    element_id: str = ""
    background: str = ""
    rects: tuple[Rect, ...] = ()
    lines: tuple[Line, ...] = ()
    texts: tuple[Text, ...] = field(default=())
    circles: tuple[Circle, ...] = ()


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= value (an axis top)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 < value:
        magnitude *= 10
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return magnitude * 10


@dataclass(frozen=True, slots=True)
class Bar:
    value: int
    label: str  # the x-axis label, shown for the first, middle and last bars
    title: str  # the tooltip
    fill: str
    marked: bool = False  # drawn with a 3 px strip at the base, visible even at zero


def bar_chart(bars: Sequence[Bar], *, label: str, width: int = 720, height: int = 220) -> SvgChart:
    """Vertical bars on a 0 / half / top grid, the axis top rounded up to a nice number."""
    left, right, top, bottom = 56, 12, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = nice_ceiling(max((b.value for b in bars), default=0))
    slot = plot_w / max(len(bars), 1)
    bar_w = max(slot * 0.8, 1.0)
    lines: list[Line] = []
    texts: list[Text] = []
    rects: list[Rect] = []
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h - frac * plot_h
        lines.append(Line(left, y, width - right, y, "#ddd"))
        texts.append(Text(left - 6, y + 4, f"{int(peak * frac):,}", "#444", "end"))
    for i, bar in enumerate(bars):
        h = max(plot_h * bar.value / peak, 0.0)
        x = left + i * slot + (slot - bar_w) / 2
        rects.append(Rect(x, top + plot_h - h, bar_w, h, bar.fill, bar.title))
        if bar.marked:
            rects.append(Rect(x, top + plot_h - 3, bar_w, 3, bar.fill, bar.title))
    if bars:
        # The first label starts at the plot's left edge and the last ends at its right edge,
        # so neither is cut by the chart's border, whatever the label's width.
        last = len(bars) - 1
        for i in sorted({0, len(bars) // 2, last}):
            if i == 0:
                x, anchor = float(left), "start"
            elif i == last:
                x, anchor = float(width - right), "end"
            else:
                x, anchor = left + i * slot + slot / 2, "middle"
            texts.append(Text(x, height - 12, bars[i].label, "#444", anchor))
    lines.append(Line(left, top + plot_h, width - right, top + plot_h, "#444"))
    return SvgChart(
        width, height, label, background="#fff", rects=tuple(rects), lines=tuple(lines),
        texts=tuple(texts),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class HeatCell:
    fill: str
    title: str
    css_class: str = ""
    data: tuple[tuple[str, str], ...] = ()


HEAT_CELL = 22
HEAT_GAP = 2
HEAT_LABEL_WIDTH = 150
HEAT_HEADER_HEIGHT = 52
HEAT_RIGHT_MARGIN = 48  # room for the last, slanted column label


def heat_map(
    row_labels: Sequence[str],
    column_labels: Sequence[str | None],
    cells: Sequence[Sequence[HeatCell]],
    *,
    label: str,
    element_id: str = "",
) -> SvgChart:
    """One row per ``row_labels``, one square per column; a column label of None is not shown.

    ``cells[row][column]`` must have one cell per row and column.
    """
    if len(cells) != len(row_labels) or any(len(r) != len(column_labels) for r in cells):
        raise ValueError("heat map cells must be rows x columns")
    pitch = HEAT_CELL + HEAT_GAP
    width = HEAT_LABEL_WIDTH + len(column_labels) * pitch + HEAT_RIGHT_MARGIN
    height = HEAT_HEADER_HEIGHT + len(row_labels) * pitch
    texts: list[Text] = []
    rects: list[Rect] = []
    for col, column in enumerate(column_labels):
        if column is not None:
            x = round(HEAT_LABEL_WIDTH + col * pitch + HEAT_CELL / 2)
            texts.append(Text(x, HEAT_HEADER_HEIGHT - 8, column, rotate=-45))
    for row, (row_label, row_cells) in enumerate(zip(row_labels, cells, strict=True)):
        y = HEAT_HEADER_HEIGHT + row * pitch
        texts.append(Text(HEAT_LABEL_WIDTH - 8, y + HEAT_CELL - 5, row_label, "#1d2430", "end", 12))
        for col, cell in enumerate(row_cells):
            x = HEAT_LABEL_WIDTH + col * pitch
            rects.append(
                Rect(
                    x, y, HEAT_CELL, HEAT_CELL, cell.fill, cell.title, cell.css_class, 3, cell.data
                )
            )
    return SvgChart(width, height, label, element_id, rects=tuple(rects), texts=tuple(texts))


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    title: str  # the tooltip
    marked: bool = False  # drawn larger, in the marked colour
    data: tuple[tuple[str, str], ...] = ()


SCATTER_FILL = "#7a8699"
SCATTER_MARKED = "#c2410c"


def scatter_plot(
    points: Sequence[Point],
    *,
    label: str,
    x_label: str,
    y_label: str,
    element_id: str = "",
    width: int = 720,
    height: int = 440,
) -> SvgChart:
    """A point per ``points`` on axes from 0 to a nice top, with 5 gridlines each way."""
    left, right, top, bottom = 64, 16, 16, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    x_top = nice_ceiling(max((p.x for p in points), default=0))
    y_top = nice_ceiling(max((p.y for p in points), default=0))
    lines: list[Line] = []
    texts: list[Text] = []
    for i in range(5):
        frac = i / 4
        y = top + plot_h - frac * plot_h
        x = left + frac * plot_w
        lines.append(Line(left, y, width - right, y, "#e3e6ea"))
        lines.append(Line(x, top, x, top + plot_h, "#e3e6ea"))
        texts.append(Text(left - 6, y + 4, _tick(y_top * frac), "#444", "end"))
        texts.append(Text(x, top + plot_h + 16, _tick(x_top * frac), "#444", "middle"))
    lines.append(Line(left, top + plot_h, width - right, top + plot_h, "#444"))
    lines.append(Line(left, top, left, top + plot_h, "#444"))
    texts.append(Text(left + plot_w / 2, height - 8, x_label, "#1d2430", "middle", 12))
    texts.append(Text(14, top + plot_h / 2, y_label, "#1d2430", "middle", 12, rotate=-90))
    # Marked points last, so that they are drawn on top.
    circles = tuple(
        Circle(
            left + plot_w * p.x / x_top,
            top + plot_h - plot_h * p.y / y_top,
            6 if p.marked else 4,
            SCATTER_MARKED if p.marked else SCATTER_FILL,
            p.title,
            "point marked" if p.marked else "point",
            "#1d2430" if p.marked else "",
            p.data,
        )
        for p in sorted(points, key=lambda p: p.marked)
    )
    return SvgChart(
        width, height, label, element_id, background="#fff", lines=tuple(lines),
        texts=tuple(texts), circles=circles,
    )  # fmt: skip


def _tick(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:,.1f}"
