"""The scatter plot of ingest.web.charts (pure geometry): each point where its figures put it
on axes from 0 to a nice top, the marked points larger and drawn last, axes labelled."""

from __future__ import annotations

import pytest

from ingest.web.charts import Point, nice_ceiling, scatter_plot

pytestmark = pytest.mark.unit


def test_points_are_placed_in_proportion_on_axes_from_zero() -> None:
    points = [Point(0, 0, "origin"), Point(300, 40, "a"), Point(600, 80, "b")]
    chart = scatter_plot(points, label="L", x_label="across", y_label="up")
    origin, a, b = chart.circles
    x_top, y_top = nice_ceiling(600), nice_ceiling(80)  # 1,000 and 100
    (x_tick,) = [t for t in chart.texts if t.text == f"{x_top:,}"]
    (y_tick,) = [t for t in chart.texts if t.text == f"{y_top:,}"]
    plot_w = x_tick.x - origin.cx  # the top tick sits at the axis' end
    plot_h = origin.cy - (y_tick.y - 4)  # tick labels sit 4 px below their gridline
    assert a.cx - origin.cx == pytest.approx(plot_w * 300 / x_top)
    assert b.cx - origin.cx == pytest.approx(plot_w * 600 / x_top)
    assert origin.cy - a.cy == pytest.approx(plot_h * 40 / y_top)
    assert origin.cy - b.cy == pytest.approx(plot_h * 80 / y_top)


def test_marked_points_are_larger_and_drawn_over_the_others() -> None:
    points = [Point(5, 5, "m", marked=True), Point(1, 1, "u"), Point(2, 2, "v")]
    chart = scatter_plot(points, label="L", x_label="x", y_label="y")
    assert [c.title for c in chart.circles] == ["u", "v", "m"]
    assert chart.circles[-1].r > chart.circles[0].r
    assert chart.circles[-1].css_class == "point marked"


def test_both_axes_are_labelled_with_ticks_from_zero_to_their_top() -> None:
    chart = scatter_plot([Point(730, 61, "p")], label="L", x_label="across", y_label="up")
    texts = [t.text for t in chart.texts]
    assert "across" in texts and "up" in texts
    assert f"{nice_ceiling(730):,}" in texts and f"{nice_ceiling(61):,}" in texts
    assert texts.count("0") == 2


def test_no_points_still_draws_the_axes() -> None:
    chart = scatter_plot([], label="L", x_label="x", y_label="y")
    assert chart.circles == () and chart.lines
