"""The additional contribution and the forecast against the result in words, each with its arithmetic.

Beside ``figures.business_case_figures`` and shared like it by the cycle page, the decision form and the
printable business case. Formulas: docs/business-case.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import ngettext

from engpass.cycles.business_case import BusinessCase
from engpass.cycles.figures import Figure, business_case_figures
from engpass.cycles.forecast import Accuracy, Comparison, Forecast, compare
from engpass.cycles.models import Cycle, KpiDirection, Measurement, Period
from engpass.cycles.revenue import Contribution, contribution, valued
from engpass.formatting import money, number, percent


@dataclass(frozen=True)
class ForecastRow:
    """One line of forecast against result, formatted; a value is None when it is not known."""

    key: str
    label: str
    forecast: str | None
    actual: str | None
    deviation: str | None
    tone: str | None = None  # good | bad


def _per(period: Period) -> str:
    return {Period.week: _("per week"), Period.month: _("per month"), Period.year: _("per year")}[period]


def _periods(period: Period, count: int) -> str:
    if period == Period.week:
        return _("%(weeks)s working weeks", weeks=number(count))
    if period == Period.month:
        return ngettext("%(num)d month", "%(num)d months", count)
    return ngettext("%(num)d year", "%(num)d years", count)


def _tone(value: Decimal | None) -> str | None:
    return None if value is None or value == 0 else "good" if value > 0 else "bad"


def contribution_figure(cycle: Cycle, result: Contribution | None, measured: bool, currency: str) -> Figure | None:
    """The additional contribution per year; None for a cycle whose KPI has no value in money."""
    label = _("Additional contribution per year")
    if not valued(cycle):
        return None
    if result is None:
        if not measured:
            missing = _("Needs a measurement of the result.")
        elif cycle.kpi_period is None:
            missing = _("Needs the span the KPI counts per.")
        elif cycle.kpi_baseline is None:
            missing = _("Needs the KPI's baseline value.")
        else:
            missing = _("Needs the KPI's direction.")
        return Figure("contribution", label, None, missing=missing)
    baseline = number(cycle.kpi_baseline)
    now = number(result.kpi_value)
    first, second = (now, baseline) if cycle.kpi_direction == KpiDirection.higher else (baseline, now)
    formula = _(
        "(%(first)s − %(second)s) %(unit)s %(per)s × %(value)s per unit × %(periods)s = %(total)s",
        first=first,
        second=second,
        unit=cycle.kpi_unit or "",
        per=_per(result.period),
        value=money(result.value_per_unit, currency),
        periods=_periods(result.period, result.periods_per_year),
        total=money(result.per_year, currency),
    )
    note = _("Beside the savings, not added to them.")
    return Figure(
        "contribution",
        label,
        money(result.per_year, currency),
        f"{' '.join(formula.split())} · {note}",
        tone=_tone(result.per_year),
    )


def with_contribution(figures: list[Figure], figure: Figure | None) -> list[Figure]:
    """The business case's figures with the contribution right after the savings."""
    if figure is None:
        return figures
    at = next((i + 1 for i, f in enumerate(figures) if f.key == "euros"), len(figures))
    return [*figures[:at], figure, *figures[at:]]


def _signed(text: str, value: Decimal) -> str:
    return "+" + text if value > 0 else text


def _row(
    key: str, label: str, comparison: Comparison, show: Callable[[Decimal], str], better_higher: bool | None
) -> ForecastRow:
    deviation = comparison.deviation
    tone = None
    if deviation is not None and deviation != 0 and better_higher is not None:
        tone = "good" if (deviation > 0) == better_higher else "bad"
    return ForecastRow(
        key,
        label,
        show(comparison.forecast) if comparison.forecast is not None else None,
        show(comparison.actual) if comparison.actual is not None else None,
        _signed(show(deviation), deviation) if deviation is not None else None,
        tone,
    )


def forecast_rows(cycle: Cycle, forecast: Forecast, currency: str) -> list[ForecastRow]:
    """Hours, KPI, savings and contribution: forecast, measured and measured − forecast, for those forecast."""

    def hours(value: Decimal) -> str:
        return _("%(value)s h", value=number(value))

    def kpi(value: Decimal) -> str:
        return f"{number(value)} {cycle.kpi_unit or ''}".strip()

    def cash(value: Decimal) -> str:
        return money(value, currency)

    kpi_higher = None if cycle.kpi_direction is None else cycle.kpi_direction == KpiDirection.higher
    rows = [
        _row("hours", _("Hours per week"), forecast.hours_per_week, hours, False),
        _row("kpi", cycle.kpi_name or _("KPI"), forecast.kpi, kpi, kpi_higher),
        _row("savings", _("Savings per year"), forecast.savings_per_year, cash, True),
        _row("contribution", _("Additional contribution per year"), forecast.contribution_per_year, cash, True),
    ]
    return [row for row in rows if row.forecast is not None]


def achieved_figure(forecast: Forecast, currency: str) -> Figure:
    label = _("Achieved share of the forecast")
    share = forecast.achieved_percent
    savings = forecast.savings_per_year
    if share is None or savings.actual is None or savings.forecast is None:
        if savings.forecast is None:
            missing = _("Needs a forecast of hours or cost per week after.")
        elif savings.forecast <= 0:
            missing = _("The forecast expects no savings.")
        else:
            missing = _("Needs the savings per year.")
        return Figure("achieved", label, None, missing=missing)
    return Figure(
        "achieved",
        label,
        percent(share),
        _(
            "%(actual)s measured ÷ %(forecast)s forecast × 100 = %(share)s",
            actual=money(savings.actual, currency),
            forecast=money(savings.forecast, currency),
            share=percent(share),
        ),
        tone="good" if share >= 100 else None,
    )


def accuracy_text(result: Accuracy | None) -> str | None:
    """The organization's forecast accuracy in a sentence, with the cycles it rests on."""
    if result is None or result.percent is None:
        return None
    return ngettext(
        "Forecast accuracy of the organization: %(share)s, over %(num)d cycle with forecast and result.",
        "Forecast accuracy of the organization: %(share)s, over %(num)d cycles with forecast and result.",
        result.cycles,
        share=percent(result.percent),
    )


def forecast_figures(cycle: Cycle, forecast: Forecast, currency: str) -> list[Figure]:
    """Forecast against result as figures, for the pages that list figures only (print page, PDF, decision)."""
    if not forecast.stated:
        return []
    figures = [
        Figure(
            f"forecast_{row.key}",
            _("%(figure)s: forecast against result", figure=row.label),
            row.actual,
            _(
                "Forecast %(forecast)s, measured %(actual)s, deviation %(deviation)s",
                forecast=row.forecast,
                actual=row.actual or "–",
                deviation=row.deviation or "–",
            ),
            missing=None if row.actual else _("Needs a measurement of the result."),
            tone=row.tone,
        )
        for row in forecast_rows(cycle, forecast, currency)
    ]
    return [*figures, achieved_figure(forecast, currency)]


def complete_figures(
    cycle: Cycle,
    measurements: list[Measurement],
    case_: BusinessCase,
    hourly_rate: Decimal,
    weeks_per_year: int,
    currency: str,
) -> list[Figure]:
    """The business case's figures with the additional contribution and the forecast against the result."""
    added = contribution(cycle, case_.kpi_current, weeks_per_year)
    figures = with_contribution(
        business_case_figures(cycle, measurements, case_, hourly_rate, currency),
        contribution_figure(cycle, added, case_.measured, currency),
    )
    forecast = compare(cycle, measurements, case_, hourly_rate, weeks_per_year)
    return figures + forecast_figures(cycle, forecast, currency)
