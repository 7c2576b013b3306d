"""An effect that is not hours: what the KPI's improvement is worth a year (docs/business-case.md).

A lead-scoring cycle that wins more orders saves no hours; its worth is the additional contribution of
the orders. It is its own figure beside the savings, never added to them: saved cost and additional
contribution are different kinds of money, and a managing director weighs them differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from engpass.cycles.models import Cycle, KpiDirection, Period

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Contribution:
    """``improvement`` is in the KPI's units per period, positive when the KPI moved its good way."""

    kpi_value: Decimal
    improvement: Decimal
    value_per_unit: Decimal
    period: Period
    periods_per_year: int
    per_year: Decimal


def valued(cycle: Cycle) -> bool:
    """Whether the cycle gives its KPI a value in money at all (else there is no contribution to show)."""
    return cycle.kpi_value_per_unit is not None


def contribution(cycle: Cycle, kpi_value: Decimal | None, weeks_per_year: int) -> Contribution | None:
    """The additional contribution per year of the KPI at ``kpi_value`` against the baseline; None while the
    KPI's value per unit, its period, baseline, direction or ``kpi_value`` is missing."""
    if (
        kpi_value is None
        or cycle.kpi_value_per_unit is None
        or cycle.kpi_period is None
        or cycle.kpi_baseline is None
        or cycle.kpi_direction is None
    ):
        return None
    now, baseline = Decimal(kpi_value), Decimal(cycle.kpi_baseline)
    improvement = now - baseline if cycle.kpi_direction == KpiDirection.higher else baseline - now
    value = Decimal(cycle.kpi_value_per_unit)
    periods = Period(cycle.kpi_period).per_year(weeks_per_year)
    per_year = (improvement * value * periods).quantize(CENT, rounding=ROUND_HALF_UP)
    return Contribution(now, improvement, value, Period(cycle.kpi_period), periods, per_year)
