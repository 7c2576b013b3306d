"""The charts' downsampling: at most the bound, in order, always the first, the last, the lowest and the highest."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reportlab.graphics.shapes import Circle, PolyLine

from engpass.charts import downsample, evenly_spaced
from engpass.cycles.chart import CHART_POINTS
from engpass.cycles.models import Cycle, Measurement
from engpass.exports.pdf_chart import kpi_drawing


@pytest.mark.parametrize(("count", "limit"), [(0, 5), (1, 5), (5, 5), (6, 5), (1000, 118), (119, 118), (10**6, 2)])
def test_evenly_spaced_keeps_the_ends_and_stays_within_the_limit(count, limit):
    indices = evenly_spaced(count, limit)
    assert indices == sorted(set(indices))
    assert len(indices) == min(count, limit)
    if count:
        assert indices[0] == 0 and indices[-1] == count - 1


def test_evenly_spaced_spreads_evenly():
    assert evenly_spaced(9, 5) == [0, 2, 4, 6, 8]
    gaps = {b - a for a, b in zip(evenly_spaced(1000, 100), evenly_spaced(1000, 100)[1:], strict=False)}
    assert gaps <= {10, 11}


def test_downsample_returns_few_points_as_they_are():
    points = [3, 1, 2]
    assert downsample(points, 4, float) == points


def test_downsample_keeps_the_lowest_and_the_highest_between_the_spaced_ones():
    values = [5.0] * 1000
    values[401], values[602] = -1.0, 99.0
    kept = downsample(list(enumerate(values)), 120, lambda point: point[1])
    assert len(kept) <= 120
    assert [index for index, _ in kept] == sorted(index for index, _ in kept)
    indices = {index for index, _ in kept}
    assert {0, 999, 401, 602} <= indices


def test_downsample_takes_the_first_of_equal_extremes():
    values = [1.0, 3.0, 3.0, 0.0, 0.0, 2.0, 2.0, 2.0]
    kept = downsample(list(enumerate(values)), 4, lambda point: point[1])
    assert [index for index, _ in kept] == [0, 1, 3, 7]


@given(st.lists(st.integers(min_value=-1000, max_value=1000), max_size=600), st.integers(min_value=4, max_value=130))
def test_downsample_is_bounded_ordered_and_keeps_the_shape(values, limit):
    points = list(enumerate(values))
    kept = downsample(points, limit, lambda point: float(point[1]))
    assert len(kept) <= limit
    assert kept == sorted(kept)
    assert set(kept) <= set(points)
    if values:
        assert kept[0] == points[0] and kept[-1] == points[-1]
        assert min(v for _, v in kept) == min(values) and max(v for _, v in kept) == max(values)


def test_the_pdf_chart_draws_no_more_points_than_the_page(app):
    """The PDF and the decision paper draw the same bounded sample as the cycle page, over the same days."""
    start = date(2025, 1, 6)
    values = [Decimal(9 + (n * 7) % 13) for n in range(500)]
    values[321] = Decimal(-4)  # the lowest, between the evenly spaced ones
    every = [
        Measurement(id=n + 1, measured_on=start + timedelta(days=n), kpi_value=value) for n, value in enumerate(values)
    ]
    cycle = Cycle(title="Angebote", kpi_unit="Tage", kpi_baseline=Decimal(12), kpi_target=Decimal(6))
    with app.test_request_context():
        drawing = kpi_drawing(cycle, every, start + timedelta(days=600))
    drawn = [shape for shape in drawing.contents if isinstance(shape, Circle)]
    expected = downsample(every, CHART_POINTS, lambda m: float(m.kpi_value))
    assert len(drawn) == len(expected) <= CHART_POINTS
    (line,) = [shape for shape in drawing.contents if isinstance(shape, PolyLine)]
    xs = line.points[0::2]
    assert (xs[0], xs[-1]) == (drawn[0].cx, drawn[-1].cx) and min(line.points[1::2]) == min(c.cy for c in drawn)
