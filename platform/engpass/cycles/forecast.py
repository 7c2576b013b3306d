"""Forecast against result: what the team expected at the solution step, held against what was measured.

The forecast's savings and contribution are computed with the very formulas of the measured ones
(``business_case.compute``, ``revenue.contribution``), the forecast taking the place of the latest
measurement, so the two differ only by what was expected and what happened. Definitions:
docs/business-case.md, "Forecast against result".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engpass.cycles.business_case import BusinessCase, compute, latest
from engpass.cycles.models import Cycle, Measurement
from engpass.cycles.revenue import contribution

TENTH = Decimal("0.1")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Expected:
    """The forecast in the shape of a measurement, so the business case reads it like one."""

    kpi_value: Decimal
    hours_per_week: Decimal | None
    cost_per_week: Decimal | None
    id: int = 0
    measured_on: date = date.min


@dataclass(frozen=True)
class Comparison:
    """One figure expected and measured; ``deviation`` is measured − expected."""

    forecast: Decimal | None
    actual: Decimal | None

    @property
    def deviation(self) -> Decimal | None:
        if self.forecast is None or self.actual is None:
            return None
        return Decimal(self.actual) - Decimal(self.forecast)


@dataclass(frozen=True)
class Forecast:
    hours_per_week: Comparison
    kpi: Comparison
    savings_per_year: Comparison
    contribution_per_year: Comparison
    achieved_percent: Decimal | None
    measured: bool

    @property
    def stated(self) -> bool:
        return any(
            c.forecast is not None
            for c in (self.hours_per_week, self.kpi, self.savings_per_year, self.contribution_per_year)
        )


@dataclass(frozen=True)
class Accuracy:
    """``percent`` is None when no cycle has both a forecast of savings above 0 and measured savings."""

    percent: Decimal | None
    cycles: int


def stated(cycle: Cycle) -> bool:
    return any(
        value is not None for value in (cycle.forecast_hours_per_week, cycle.forecast_kpi, cycle.forecast_cost_per_week)
    )


def forecast_case(cycle: Cycle, hourly_rate: Decimal, weeks_per_year: int) -> BusinessCase | None:
    """The business case as forecast; None when the team stated no forecast."""
    if not stated(cycle):
        return None
    # The KPI does not enter the savings; any value keeps the business case's KPI figures computable.
    kpi = cycle.forecast_kpi if cycle.forecast_kpi is not None else cycle.kpi_baseline
    expected = Expected(Decimal(kpi or 0), cycle.forecast_hours_per_week, cycle.forecast_cost_per_week)
    return compute(cycle, [expected], hourly_rate, weeks_per_year)


def achieved_share(forecast_savings: Decimal | None, actual_savings: Decimal | None) -> Decimal | None:
    """Measured ÷ forecast savings × 100; only for a forecast of savings above 0 (a share of nothing, or of a
    loss, says nothing)."""
    if forecast_savings is None or actual_savings is None or forecast_savings <= 0:
        return None
    return (Decimal(actual_savings) / Decimal(forecast_savings) * HUNDRED).quantize(TENTH, rounding=ROUND_HALF_UP)


def compare(
    cycle: Cycle, measurements: Sequence[Measurement], actual: BusinessCase, hourly_rate: Decimal, weeks_per_year: int
) -> Forecast:
    """The cycle's forecast against its measured result; ``actual`` is the business case of ``measurements``."""
    current = latest(list(measurements))
    expected = forecast_case(cycle, hourly_rate, weeks_per_year)
    expected_contribution = contribution(cycle, cycle.forecast_kpi, weeks_per_year)
    actual_contribution = contribution(cycle, actual.kpi_current, weeks_per_year)
    forecast_savings = expected.euros_per_year if expected is not None else None
    return Forecast(
        hours_per_week=Comparison(
            cycle.forecast_hours_per_week, current.hours_per_week if current is not None else None
        ),
        kpi=Comparison(cycle.forecast_kpi, actual.kpi_current),
        savings_per_year=Comparison(forecast_savings, actual.euros_per_year),
        contribution_per_year=Comparison(
            expected_contribution.per_year if expected_contribution is not None else None,
            actual_contribution.per_year if actual_contribution is not None else None,
        ),
        achieved_percent=achieved_share(forecast_savings, actual.euros_per_year),
        measured=actual.measured,
    )


def accuracy(pairs: Iterable[tuple[Decimal | None, Decimal | None]]) -> Accuracy:
    """100 % − the mean absolute percentage error of the measured savings against the forecast ones, floored
    at 0, over the (forecast, measured) pairs with a forecast above 0 and a measurement."""
    errors = [
        abs(Decimal(actual) - Decimal(expected)) / Decimal(expected)
        for expected, actual in pairs
        if expected is not None and actual is not None and expected > 0
    ]
    if not errors:
        return Accuracy(None, 0)
    mean_error = sum(errors, Decimal(0)) / len(errors) * HUNDRED
    return Accuracy(max(Decimal(0), HUNDRED - mean_error).quantize(TENTH, rounding=ROUND_HALF_UP), len(errors))


def organization_accuracy(
    cycles: Iterable[Cycle], measurements: Mapping[int, Sequence[Any]], hourly_rate: Decimal, weeks_per_year: int
) -> Accuracy:
    """The forecast accuracy over an organization's cycles; ``measurements`` by cycle id (``Measurement``s or
    rows of its columns, as the trends load them)."""
    pairs = []
    for cycle in cycles:
        expected = forecast_case(cycle, hourly_rate, weeks_per_year)
        points = measurements.get(cycle.id, [])
        if expected is None or not points:
            continue
        measured = compute(cycle, list(points), hourly_rate, weeks_per_year)
        pairs.append((expected.euros_per_year, measured.euros_per_year))
    return accuracy(pairs)
