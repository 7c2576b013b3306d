"""The business case at scale, in one place: the prototype's proven effect beside the effect at scale, the
cost of scaling, the payback at scale, adoption, and whether the effect held at 90 days. The cycle page,
the printable business case and its PDF, and the API's business-case document all read ``scale_case``,
so they always show the same numbers. Formulas: docs/rollouts.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _

from engpass.cycles.business_case import MONTHS_PER_YEAR, BusinessCase
from engpass.cycles.models import Cycle, KpiDirection
from engpass.formatting import money, number, percent
from engpass.i18n import today_in
from engpass.organizations.models import Organization
from engpass.rollouts.checkpoints import SUSTAINED_CHECKPOINT, Checkpoint, checkpoints, has_effect
from engpass.rollouts.costs import ScalingCost, scaling_cost
from engpass.rollouts.models import Rollout, RolloutMeasurement

# The effect held ("sustained") when the 90-day measurement keeps at least this share of the prototype's
# improvement of the KPI over its baseline.
SUSTAINED_MIN_PERCENT = Decimal(80)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class ScaleCase:
    """Every figure is None when the numbers it needs are missing."""

    target_count: int
    reached: int | None
    # Latest reached ÷ target, in percent; may pass 100. ``adoption_bar`` is it bounded for drawing.
    adoption_percent: Decimal | None
    prototype_euros_per_year: Decimal | None
    scale_euros_per_year: Decimal | None
    cost: ScalingCost
    payback_weeks: Decimal | None
    checkpoints: tuple[Checkpoint, ...]
    # The 90-day KPI improvement as a share of the prototype's, in percent; None until both are known.
    retained_percent: Decimal | None
    sustained: bool | None

    @property
    def adoption_bar(self) -> int:
        if self.adoption_percent is None:
            return 0
        return int(min(max(self.adoption_percent, Decimal(0)), Decimal(100)))


def _latest(rows: list[RolloutMeasurement], wanted: str) -> RolloutMeasurement | None:
    found = [m for m in rows if getattr(m, wanted) is not None] if wanted else [m for m in rows if has_effect(m)]
    return max(found, key=lambda m: (m.measured_on, m.id or 0), default=None)


def adoption(rollout: Rollout, rows: list[RolloutMeasurement]) -> tuple[int | None, Decimal | None]:
    latest = _latest(rows, "reached")
    if latest is None or latest.reached is None:
        return None, None
    if rollout.target_count <= 0:
        return latest.reached, None
    share = Decimal(latest.reached) / Decimal(rollout.target_count) * 100
    return latest.reached, share.quantize(TENTH, rounding=ROUND_HALF_UP)


def scale_euros_per_year(
    cycle: Cycle, rollout: Rollout, effect: RolloutMeasurement | None, hourly_rate: Decimal, weeks: int
) -> Decimal | None:
    """As the prototype's saving (``business_case.compute``), from the latest measurement at scale, less the
    prototype's and the rollout's running cost."""
    if effect is None:
        return None
    hours_saved = None
    if effect.hours_per_week is not None and cycle.hours_per_week is not None:
        hours_saved = Decimal(cycle.hours_per_week) - Decimal(effect.hours_per_week)
    cost_saved = Decimal(0)
    if effect.cost_per_week is not None:
        baseline_cost = Decimal(cycle.direct_cost_per_week or 0) + Decimal(cycle.indirect_cost_per_week or 0)
        cost_saved = baseline_cost - Decimal(effect.cost_per_week)
    if hours_saved is None and effect.cost_per_week is None:
        return None
    running = (Decimal(cycle.running_cost_per_month or 0) + Decimal(rollout.running_cost_per_month or 0)) * (
        MONTHS_PER_YEAR
    )
    weekly = (hours_saved or Decimal(0)) * Decimal(hourly_rate) + cost_saved
    return (weekly * Decimal(weeks) - running).quantize(CENT, rounding=ROUND_HALF_UP)


def _improvement(cycle: Cycle, value: Decimal | None) -> Decimal | None:
    """How far ``value`` is from the baseline in the KPI's good direction (negative: worse)."""
    if value is None or cycle.kpi_baseline is None or cycle.kpi_direction is None:
        return None
    delta = Decimal(value) - Decimal(cycle.kpi_baseline)
    return delta if cycle.kpi_direction == KpiDirection.higher else -delta


def retained(cycle: Cycle, prototype_kpi: Decimal | None, at_90: RolloutMeasurement | None) -> Decimal | None:
    """The 90-day improvement as a share of the prototype's, in percent; None without a prototype
    improvement to keep or without a KPI value at 90 days."""
    proven = _improvement(cycle, prototype_kpi)
    kept = _improvement(cycle, at_90.kpi_value if at_90 is not None else None)
    if proven is None or kept is None or proven <= 0:
        return None
    return (kept / proven * 100).quantize(TENTH, rounding=ROUND_HALF_UP)


def scale_case(
    cycle: Cycle,
    rollout: Rollout,
    case_: BusinessCase,
    hourly_rate: Decimal,
    weeks: int,
    today: date,
    rows: list[RolloutMeasurement] | None = None,
) -> ScaleCase:
    """``case_`` is the cycle's business case (the prototype's proven effect); ``rows`` the rollout's
    measurements it reads (``measurement_reads.figure_rows``), by default all of ``rollout.measurements``."""
    rows = list(rollout.measurements) if rows is None else rows
    reached, share = adoption(rollout, rows)
    at_scale = scale_euros_per_year(cycle, rollout, _latest(rows, ""), hourly_rate, weeks)
    cost = scaling_cost(rollout)
    payback = None
    if at_scale is not None and at_scale > 0:
        payback = (Decimal(rollout.one_off_cost or 0) / (at_scale / Decimal(weeks))).quantize(
            TENTH, rounding=ROUND_HALF_UP
        )
    marks = tuple(checkpoints(rollout.started_on, rows, today))
    at_90 = next(c.measurement for c in marks if c.days == SUSTAINED_CHECKPOINT)
    kept = retained(cycle, case_.kpi_current, at_90)
    return ScaleCase(
        target_count=rollout.target_count,
        reached=reached,
        adoption_percent=share,
        prototype_euros_per_year=case_.euros_per_year,
        scale_euros_per_year=at_scale,
        cost=cost,
        payback_weeks=payback,
        checkpoints=marks,
        retained_percent=kept,
        sustained=None if kept is None else kept >= SUSTAINED_MIN_PERCENT,
    )


@dataclass(frozen=True)
class Row:
    """One line of the side-by-side table: the prototype's figure and the one at scale."""

    key: str
    label: str
    prototype: str
    at_scale: str


def _money_or_dash(value: Decimal | None, currency: str) -> str:
    return "–" if value is None else money(value, currency)


def side_by_side(scale: ScaleCase, currency: str) -> list[Row]:
    """The rows the page and the PDF show; the words of each figure are the API's keys' descriptions."""
    adoption_ = "–" if scale.adoption_percent is None else percent(scale.adoption_percent)
    payback = "–" if scale.payback_weeks is None else _("%(weeks)s weeks", weeks=number(scale.payback_weeks))
    return [
        Row(
            "euros",
            _("Saving per year"),
            _money_or_dash(scale.prototype_euros_per_year, currency),
            _money_or_dash(scale.scale_euros_per_year, currency),
        ),
        Row("one_off", _("Cost of scaling, once"), "–", _money_or_dash(scale.cost.one_off, currency)),
        Row("per_year", _("Running cost of scaling per year"), "–", _money_or_dash(scale.cost.per_year, currency)),
        Row("payback", _("Payback of scaling"), "–", payback),
        Row("adoption", _("Adoption"), "–", adoption_),
    ]


def sustained_text(scale: ScaleCase) -> str:
    """Whether the effect held at 90 days, with the rule's threshold."""
    rule = percent(SUSTAINED_MIN_PERCENT)
    if scale.sustained is None:
        return _(
            "Held at 90 days? Not known yet: the 90-day measurement of the KPI must keep at least %(rule)s of "
            "the prototype's improvement.",
            rule=rule,
        )
    if scale.sustained:
        return _(
            "Sustained: at 90 days the KPI keeps %(kept)s of the prototype's improvement (at least %(rule)s needed).",
            kept=percent(scale.retained_percent),
            rule=rule,
        )
    return _(
        "Not sustained: at 90 days the KPI keeps only %(kept)s of the prototype's improvement "
        "(at least %(rule)s needed).",
        kept=percent(scale.retained_percent),
        rule=rule,
    )


@dataclass(frozen=True)
class AtScale:
    """What the printable business case and its PDF show of a scaled cycle's rollout."""

    rows: list[Row]
    sustained: str


def at_scale_sheet(cycle: Cycle, rollout: Rollout | None, case_: BusinessCase, org: Organization) -> AtScale | None:
    """The side-by-side rows and the sustained line for the organization's settings; None without a rollout."""
    if rollout is None:
        return None
    today = today_in(org.timezone)
    scale = scale_case(cycle, rollout, case_, org.default_hourly_rate, org.working_weeks_per_year, today)
    return AtScale(side_by_side(scale, org.currency), sustained_text(scale))
