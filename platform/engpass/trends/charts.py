"""The dashboard's charts, from weekly snapshots, in the reader's language."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from engpass.charts import Scale, bar_chart, line_chart
from engpass.cycles.models import STAGE_ORDER
from engpass.formatting import money, number
from engpass.maturity.model import DIMENSION_NAMES, DIMENSIONS
from engpass.trends.models import TrendSnapshot

LEVEL_SCALE = Scale(0.0, 5.0, [1.0, 2.0, 3.0, 4.0, 5.0])


def _month(day: date) -> str:
    return _month_label(str(get_locale()), day.year, day.month)


@lru_cache(maxsize=1024)
def _month_label(locale: str, year: int, month: int) -> str:
    # Babel matches the skeleton anew on every call; a chart has dozens of labels from a few months.
    return format_skeleton("MMMyy", date(year, month, 1), locale=locale)


def as_of(snapshot: TrendSnapshot) -> date:
    """The day a weekly snapshot stands for: the end of its week (its Sunday), whose month a point is labelled
    with. Its Monday may lie in the month before (a week from 30 November is December's)."""
    return snapshot.week_start + timedelta(days=6)


def maturity_trend(snapshots: list[TrendSnapshot]) -> Markup:
    return line_chart(
        "maturity-trend",
        _("Maturity over time"),
        _(
            "Maturity level per week, from %(first)s to %(last)s: level %(start)d to %(end)d.",
            first=_month(as_of(snapshots[0])),
            last=_month(as_of(snapshots[-1])),
            start=snapshots[0].level,
            end=snapshots[-1].level,
        ),
        [as_of(s) for s in snapshots],
        [float(s.level) for s in snapshots],
        y_label=lambda v: number(int(v)),
        x_label=_month,
        scale=LEVEL_SCALE,
        step=True,
    )


def savings_trend(snapshots: list[TrendSnapshot], currency: str) -> Markup:
    return line_chart(
        "savings-trend",
        _("Measured savings per year"),
        _(
            "Savings per year from measured cycles, latest %(value)s.",
            value=money(snapshots[-1].euros_per_year, currency),
        ),
        [as_of(s) for s in snapshots],
        [float(s.euros_per_year) for s in snapshots],
        y_label=lambda v: money(round(v), currency),
        x_label=_month,
        integer=True,
    )


def lead_time_trend(snapshots: list[TrendSnapshot]) -> Markup:
    values = [None if s.median_lead_time_days is None else float(s.median_lead_time_days) for s in snapshots]
    latest = next((v for v in reversed(values) if v is not None), None)
    return line_chart(
        "lead-time-trend",
        _("Lead time from bottleneck to result"),
        _(
            "Median days from naming the bottleneck to the first result, latest %(value)s.",
            value=number(latest, 0) if latest is not None else "–",
        ),
        [as_of(s) for s in snapshots],
        values,
        y_label=lambda v: number(round(v)),
        x_label=_month,
        integer=True,
    )


def dimensions(snapshot: TrendSnapshot) -> Markup:
    rows = [
        (str(DIMENSION_NAMES[name]), float(snapshot.scores[name]), number(snapshot.scores[name])) for name in DIMENSIONS
    ]
    return bar_chart(
        "dimensions",
        _("Maturity dimensions"),
        ", ".join(f"{label} {shown}" for label, _value, shown in rows),
        rows,
        maximum=100,
    )


def pipeline(snapshot: TrendSnapshot, stage_labels: dict[str, str]) -> Markup:
    counts = snapshot.cycles_per_stage
    rows = [
        (stage_labels[stage.value], float(counts.get(stage.value, 0)), number(counts.get(stage.value, 0)))
        for stage in STAGE_ORDER
    ]
    return bar_chart(
        "pipeline",
        _("Cycles by stage"),
        ", ".join(f"{label}: {shown}" for label, _value, shown in rows),
        rows,
        maximum=max([1.0, *(value for _label, value, _shown in rows)]),
    )
