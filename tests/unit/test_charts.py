"""The charts' axes and labels, over generated series: distinct ticks, the right month, no label on a line."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engpass.charts import value_scale
from engpass.cycles.chart import LABEL_ASCENT, LABEL_DESCENT, LINE_GAP, POINT_RADIUS, kpi_chart, value_label_y
from engpass.cycles.models import Cycle, KpiDirection, Measurement
from engpass.trends.charts import _month, lead_time_trend, maturity_trend
from engpass.trends.models import TrendSnapshot

SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
whole = st.integers(min_value=-1000, max_value=10**7)
Y_LABEL = re.compile(r'<text x="[\d.]+" y="([\d.]+)" dy="0.32em" text-anchor="end"[^>]*>([^<]+)</text>')
TARGET_AND_BASELINE = re.compile(r'<line x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)" y2="\1" stroke="#(?:8a5300|1d4f91)"')
X_LABEL = re.compile(r'<text x="[\d.]+" y="\d+" text-anchor="(?:start|middle|end)" fill="#5b6577">([^<]+)</text>')


@pytest.fixture
def german(app):
    with app.test_request_context(headers={"Accept-Language": "de"}):
        yield


def _snapshot(week: date, lead_time: float | None = None, level: int = 1) -> TrendSnapshot:
    return TrendSnapshot(
        week_start=week,
        level=level,
        median_lead_time_days=None if lead_time is None else Decimal(str(lead_time)),
        euros_per_year=Decimal(0),
    )


@given(values=st.lists(whole, min_size=1, max_size=60))
def test_whole_number_axes_get_whole_distinct_increasing_ticks(values):
    scale = value_scale(values)
    assert all(tick == int(tick) for tick in scale.ticks)
    assert all(a < b for a, b in zip(scale.ticks, scale.ticks[1:], strict=False))
    assert scale.ticks[0] <= min(values) and scale.ticks[-1] >= max(values)
    assert 2 <= len(scale.ticks) <= 12


@SLOW
@given(values=st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=3)), min_size=1, max_size=52))
def test_the_lead_time_axis_never_repeats_a_label(german, values):
    assume(any(value is not None for value in values))
    monday = date(2026, 1, 5)
    snapshots = [_snapshot(monday + timedelta(weeks=i), value) for i, value in enumerate(values)]
    labels = [label for _y, label in Y_LABEL.findall(str(lead_time_trend(snapshots)))]
    assert len(labels) >= 2
    assert len(set(labels)) == len(labels), labels
    assert [int(label.replace(".", "")) for label in labels] == sorted(int(label.replace(".", "")) for label in labels)


@SLOW
@given(
    week=st.dates(min_value=date(2000, 1, 3), max_value=date(2090, 12, 25)).map(lambda d: d - timedelta(d.weekday()))
)
def test_a_single_points_month_is_its_own(german, week):
    """A weekly snapshot stands for the end of its week; the week of Monday 30 November is December's."""
    (label,) = X_LABEL.findall(str(maturity_trend([_snapshot(week)])))
    assert label == _month(week + timedelta(days=6))


def test_the_week_from_the_last_monday_of_november_is_labelled_december(german):
    (label,) = X_LABEL.findall(str(maturity_trend([_snapshot(date(2026, 11, 30))])))
    assert label.startswith("Dez")


@given(
    point=st.floats(min_value=12, max_value=220),
    lines=st.lists(st.floats(min_value=12, max_value=220), max_size=2),
)
def test_the_value_label_sits_on_no_line_and_not_on_its_point(point, lines):
    top, bottom = 12, 220
    y = value_label_y(point, lines, top, bottom)
    box_top, box_bottom = y - LABEL_ASCENT, y + LABEL_DESCENT
    assert top <= y <= bottom
    assert box_bottom <= point - POINT_RADIUS or box_top >= point + POINT_RADIUS
    for line in lines:
        assert line < box_top - LINE_GAP or line > box_bottom + LINE_GAP, (point, lines, y)


@SLOW
@given(
    baseline=st.integers(min_value=1, max_value=50),
    target=st.integers(min_value=0, max_value=50),
    latest=st.integers(min_value=0, max_value=50),
)
def test_in_the_drawn_kpi_chart_the_latest_value_keeps_off_the_target_line(german, baseline, target, latest):
    cycle = Cycle(
        title="Angebote",
        kpi_name="Angebotsdauer",
        kpi_unit="Tage",
        kpi_direction=KpiDirection.lower,
        kpi_baseline=Decimal(baseline),
        kpi_target=Decimal(target),
    )
    measured = [Measurement(id=1, measured_on=date(2026, 11, 2), kpi_value=Decimal(latest))]
    svg = str(kpi_chart(cycle, measured, date(2026, 11, 20)))
    for drawing in svg.split("</svg>")[:-1]:
        lines = [float(y) for y in TARGET_AND_BASELINE.findall(drawing)]
        assert len(lines) == 2
        label_y = float(re.search(r'<text x="[\d.]+" y="([\d.]+)" text-anchor="\w+" fill="#0f7b6c"', drawing).group(1))
        for line in lines:
            assert not label_y - LABEL_ASCENT - LINE_GAP <= line <= label_y + LABEL_DESCENT + LINE_GAP
