"""The business case of a cycle, computed from its numbers. Formulas: docs/business-case.md."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from engpass.cycles import indirect_costs
from engpass.cycles.indirect_costs import ItemCost
from engpass.cycles.models import Cycle, KpiDirection, Measurement

MONTHS_PER_YEAR = Decimal(12)
HOURS_PER_DAY = Decimal(8)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class BusinessCase:
    """Every figure is None when the numbers it needs are missing; the page says which."""

    hours_saved_per_week: Decimal | None
    cost_saved_per_week: Decimal
    running_cost_per_year: Decimal
    euros_per_year: Decimal | None
    kpi_current: Decimal | None
    kpi_change_percent: Decimal | None
    kpi_improved: bool | None
    target_reached_percent: Decimal | None
    effort_cost: Decimal
    payback_weeks: Decimal | None
    measured: bool
    weeks_per_year: int


@dataclass(frozen=True)
class StatusQuoCost:
    """What the bottleneck costs a year as it is: each part None when the status quo lacks its number.

    The indirect part is the sum of the cycle's indirect cost items (``indirect_items``, each with its
    yearly cost); ``guessed_cost`` is what of the total rests on items whose source is a guess, and
    ``guessed_share`` that in percent of the total (None when the total is 0)."""

    hours_cost: Decimal | None
    direct_cost: Decimal | None
    indirect_cost: Decimal | None
    total: Decimal
    weeks_per_year: int
    indirect_items: tuple[ItemCost, ...] = ()
    guessed_cost: Decimal = Decimal(0)
    guessed_share: Decimal | None = None


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def latest(measurements: list[Measurement]) -> Measurement | None:
    return max(measurements, key=lambda m: (m.measured_on, m.id or 0), default=None)


def status_quo_cost(cycle: Cycle, hourly_rate: Decimal, weeks_per_year: int) -> StatusQuoCost | None:
    """The yearly cost of the status quo; None until the status quo has hours, a direct cost or an
    indirect cost item. The indirect part is read from the items (``cycle.indirect_cost_items``), not from
    the weekly figure derived from them, so it carries no rounding of that figure."""
    weeks = Decimal(weeks_per_year)

    def yearly(weekly: Decimal | None, factor: Decimal = Decimal(1)) -> Decimal | None:
        return None if weekly is None else _money(Decimal(weekly) * factor * weeks)

    hours = yearly(cycle.hours_per_week, Decimal(hourly_rate))
    direct = yearly(cycle.direct_cost_per_week)
    items = tuple(indirect_costs.item_costs(cycle.indirect_cost_items, hourly_rate, weeks_per_year))
    indirect = indirect_costs.per_year(items) if items else None
    parts = [part for part in (hours, direct, indirect) if part is not None]
    if not parts:
        return None
    total = sum(parts, Decimal(0))
    guessed = _money(indirect_costs.guessed_per_year(items))
    return StatusQuoCost(
        hours, direct, indirect, total, weeks_per_year, items, guessed, indirect_costs.share(guessed, total)
    )


def payback_weeks(cost: Decimal, savings_per_year: Decimal | None, weeks_per_year: int) -> Decimal | None:
    """The weeks until ``cost`` is earned back by the weekly share of ``savings_per_year``; None without a
    saving (nothing, or a loss, never pays back). The prototype's payback takes its effort; the decision paper's
    at scale the effort plus what scaling costs once against the savings less scaling's running cost."""
    if savings_per_year is None or savings_per_year <= 0:
        return None
    weekly = Decimal(savings_per_year) / Decimal(weeks_per_year)
    return (Decimal(cost) / weekly).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def compute(cycle: Cycle, measurements: list[Measurement], hourly_rate: Decimal, weeks_per_year: int) -> BusinessCase:
    """``hourly_rate`` and ``weeks_per_year`` are the organization's settings."""
    current = latest(measurements)
    rate = Decimal(hourly_rate)
    weeks = Decimal(weeks_per_year)

    hours_saved = None
    if current is not None and current.hours_per_week is not None and cycle.hours_per_week is not None:
        hours_saved = Decimal(cycle.hours_per_week) - Decimal(current.hours_per_week)

    baseline_cost = Decimal(cycle.direct_cost_per_week or 0) + Decimal(cycle.indirect_cost_per_week or 0)
    cost_saved = Decimal(0)
    if current is not None and current.cost_per_week is not None:
        cost_saved = baseline_cost - Decimal(current.cost_per_week)

    running_per_year = Decimal(cycle.running_cost_per_month or 0) * MONTHS_PER_YEAR
    euros_per_year = None
    if hours_saved is not None or (current is not None and current.cost_per_week is not None):
        weekly = (hours_saved or Decimal(0)) * rate + cost_saved
        euros_per_year = _money(weekly * weeks - running_per_year)

    kpi_current = Decimal(current.kpi_value) if current is not None else None
    kpi_change = improved = target_reached = None
    if kpi_current is not None and cycle.kpi_baseline is not None:
        baseline = Decimal(cycle.kpi_baseline)
        delta = kpi_current - baseline
        if baseline != 0:
            kpi_change = (delta / abs(baseline) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if delta != 0 and cycle.kpi_direction is not None:
            improved = (delta > 0) == (cycle.kpi_direction == KpiDirection.higher)
        if cycle.kpi_target is not None and Decimal(cycle.kpi_target) != baseline:
            share = delta / (Decimal(cycle.kpi_target) - baseline) * 100
            target_reached = share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    effort_cost = _money(Decimal(cycle.effort_days or 0) * HOURS_PER_DAY * rate + Decimal(cycle.one_off_cost or 0))

    return BusinessCase(
        hours_saved_per_week=hours_saved,
        cost_saved_per_week=_money(cost_saved),
        running_cost_per_year=_money(running_per_year),
        euros_per_year=euros_per_year,
        kpi_current=kpi_current,
        kpi_change_percent=kpi_change,
        kpi_improved=improved,
        target_reached_percent=target_reached,
        effort_cost=effort_cost,
        payback_weeks=payback_weeks(effort_cost, euros_per_year, weeks_per_year),
        measured=current is not None,
        weeks_per_year=weeks_per_year,
    )
