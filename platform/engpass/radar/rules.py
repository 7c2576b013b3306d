"""The radar's rules: plain functions from an organization's cycles, measurements and rollouts to findings.

Every threshold is a named constant here, stated on the dashboard and in docs/radar.md. A day count has its
deadline day still in time, as the reminders have: a rule counted in days applies from the day after.
Money comes from the business case's own functions (``cycles.business_case``, ``cycles.revenue``,
``rollouts.costs``), never from a second formula.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from engpass.cycles.business_case import BusinessCase
from engpass.cycles.business_case import compute as business_case
from engpass.cycles.models import Cycle, Decision, Measurement, Stage
from engpass.cycles.revenue import contribution
from engpass.radar.models import Pattern, RadarRule
from engpass.rollouts.costs import scaling_cost
from engpass.rollouts.models import Rollout, RolloutMeasurement

# Tool first: a rollout's adoption (latest reached ÷ target) is judged once this many days have passed since
# its start, and is too low under this share of the target.
ADOPTION_CHECK_DAYS = 30
ADOPTION_MIN_PERCENT = 50
# Isolated pilot: a "scale" decision with no measurement of the cycle or its rollout for this long …
SCALED_UNMEASURED_DAYS = 60
# … or with no rollout opened this long after the decision …
ROLLOUT_DUE_DAYS = 14
# … or a prototype that met its KPI target and has waited this long in the result stage for a decision.
UNDECIDED_DAYS = 30
# Lone expert: a decided cycle needs its sponsor this long after the decision (open cycles always do).
SPONSOR_DECIDED_DAYS = 90
# One person owning more than this share of the cycles named in the last OWNER_WINDOW_DAYS, counted from
# OWNER_MIN_CYCLES cycles on: below that, two cycles of one person would already be "most".
OWNER_MAX_PERCENT = 60
OWNER_WINDOW_DAYS = 365
OWNER_MIN_CYCLES = 5
# This many "iterate" decisions in a row along a chain of cycles, none with its KPI improved.
STUCK_ITERATIONS = 3
# A "scale" decision is watched for a year; older ones are history the radar no longer reports.
SCALE_WATCH_DAYS = 365

PATTERN_OF: dict[RadarRule, Pattern] = {
    RadarRule.running_cost: Pattern.tool_first,
    RadarRule.low_adoption: Pattern.tool_first,
    RadarRule.scaled_unmeasured: Pattern.isolated_pilot,
    RadarRule.no_rollout: Pattern.isolated_pilot,
    RadarRule.target_met_undecided: Pattern.isolated_pilot,
    RadarRule.no_sponsor: Pattern.lone_expert,
    RadarRule.one_owner: Pattern.lone_expert,
    RadarRule.stuck_iterations: Pattern.lone_expert,
}
RULE_ORDER = {rule: index for index, rule in enumerate(RadarRule)}


@dataclass(frozen=True)
class Finding:
    """A rule that applies: to a cycle, or (``cycle_id`` None) to the organization; ``user_id`` names the
    person an organization-wide finding is about. ``figures`` are JSON values: money as decimal strings."""

    rule: RadarRule
    cycle_id: int | None
    figures: dict[str, Any] = field(default_factory=dict)
    user_id: int | None = None

    @property
    def pattern(self) -> Pattern:
        return PATTERN_OF[self.rule]

    @property
    def key(self) -> str:
        return f"{self.rule.value}:{self.cycle_id if self.cycle_id is not None else 'org'}"


@dataclass
class Situation:
    """What the rules read of one organization. ``measurements`` by cycle id (``Measurement`` objects or rows
    of its columns, as ``maturity.facts`` loads them), ``rollouts`` by cycle id with their measurements."""

    cycles: Sequence[Cycle]
    measurements: Mapping[int, Sequence[Any]]
    rollouts: Mapping[int, Rollout]
    hourly_rate: Decimal
    weeks_per_year: int
    _cases: dict[int, BusinessCase] = field(default_factory=dict, init=False, repr=False)

    def case(self, cycle: Cycle) -> BusinessCase:
        if cycle.id not in self._cases:
            points: list[Measurement] = list(self.measurements.get(cycle.id, ()))
            self._cases[cycle.id] = business_case(cycle, points, self.hourly_rate, self.weeks_per_year)
        return self._cases[cycle.id]


def _day(at: datetime | None) -> date | None:
    """Stage timestamps are instants; a rule counts them by their UTC day."""
    if at is None:
        return None
    return (at.astimezone(UTC) if at.tzinfo is not None else at).date()


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _scaled(cycle: Cycle) -> bool:
    return cycle.stage == Stage.decided and cycle.decision == Decision.scale


def _watched(cycle: Cycle, today: date) -> int | None:
    """Days since a "scale" decision that the radar still watches; None otherwise."""
    decided = _day(cycle.decided_at)
    if not _scaled(cycle) or decided is None or (today - decided).days > SCALE_WATCH_DAYS:
        return None
    return (today - decided).days


# --- tool first ---------------------------------------------------------------------------------------


def running_cost(cycle: Cycle, situation: Situation) -> Finding | None:
    """The solution's running cost a year (and, once scaled, the rollout's) above what it measurably brings a
    year: the saving before running cost plus, where the KPI has a value in money, the additional contribution
    — a lead-scoring tool that wins orders is not a tool bought for nothing."""
    if cycle.stage not in (Stage.result, Stage.decided) or cycle.decision == Decision.drop:
        return None
    case = situation.case(cycle)
    if case.euros_per_year is None:
        return None
    running = case.running_cost_per_year
    rollout = situation.rollouts.get(cycle.id)
    if rollout is not None and _scaled(cycle):
        running += scaling_cost(rollout).per_year or Decimal(0)
    if running <= 0:
        return None
    brought = case.euros_per_year + case.running_cost_per_year
    added = contribution(cycle, case.kpi_current, situation.weeks_per_year)
    if added is not None and added.per_year > 0:
        brought += added.per_year
    if running <= brought:
        return None
    return Finding(
        RadarRule.running_cost, cycle.id, {"running_per_year": _money(running), "saving_per_year": _money(brought)}
    )


def _latest_reached(measurements: Sequence[RolloutMeasurement]) -> RolloutMeasurement | None:
    counted = [m for m in measurements if m.reached is not None]
    return max(counted, key=lambda m: (m.measured_on, m.id or 0), default=None)


def low_adoption(rollout: Rollout, today: date) -> Finding | None:
    """Fewer than half of those the rollout should reach use it, more than 30 days after its start. A rollout
    whose adoption was never counted is left to the "scaled and not measured" rule."""
    days = (today - rollout.started_on).days
    latest = _latest_reached(rollout.measurements)
    if days <= ADOPTION_CHECK_DAYS or latest is None or rollout.target_count <= 0:
        return None
    reached = latest.reached or 0
    if reached * 100 >= ADOPTION_MIN_PERCENT * rollout.target_count:
        return None
    return Finding(
        RadarRule.low_adoption,
        rollout.cycle_id,
        {"reached": reached, "target": rollout.target_count, "days": days, "reach": rollout.reach.value},
    )


# --- isolated pilot -----------------------------------------------------------------------------------


def scaled_unmeasured(cycle: Cycle, situation: Situation, today: date) -> Finding | None:
    """Decided "scale", and neither the cycle nor its rollout measured for more than 60 days (counted from the
    decision when nothing was measured since)."""
    if _watched(cycle, today) is None:
        return None
    days = [_day(cycle.decided_at)]
    days += [m.measured_on for m in situation.measurements.get(cycle.id, ())]
    rollout = situation.rollouts.get(cycle.id)
    if rollout is not None:
        days += [m.measured_on for m in rollout.measurements]
    last = max(day for day in days if day is not None)
    if (today - last).days <= SCALED_UNMEASURED_DAYS:
        return None
    return Finding(RadarRule.scaled_unmeasured, cycle.id, {"days": (today - last).days, "since": last.isoformat()})


def no_rollout(cycle: Cycle, situation: Situation, today: date) -> Finding | None:
    """Decided "scale", and no rollout opened more than 14 days after the decision."""
    days = _watched(cycle, today)
    if days is None or days <= ROLLOUT_DUE_DAYS or cycle.id in situation.rollouts:
        return None
    return Finding(RadarRule.no_rollout, cycle.id, {"days": days})


def target_met_undecided(cycle: Cycle, situation: Situation, today: date) -> Finding | None:
    """The latest measurement meets the KPI's target, and the cycle has waited in the result stage for a
    decision for more than 30 days."""
    entered = _day(cycle.result_at)
    if cycle.stage != Stage.result or entered is None or (today - entered).days <= UNDECIDED_DAYS:
        return None
    reached = situation.case(cycle).target_reached_percent
    if reached is None or reached < 100:
        return None
    return Finding(
        RadarRule.target_met_undecided, cycle.id, {"days": (today - entered).days, "target_percent": str(reached)}
    )


# --- lone expert --------------------------------------------------------------------------------------


def no_sponsor(cycle: Cycle, today: date) -> Finding | None:
    """An open cycle, or one decided in the last 90 days, without a sponsor from the management."""
    if cycle.sponsor_id is not None:
        return None
    decided = _day(cycle.decided_at)
    if cycle.stage == Stage.decided and (decided is None or (today - decided).days > SPONSOR_DECIDED_DAYS):
        return None
    return Finding(RadarRule.no_sponsor, cycle.id, {"stage": cycle.stage.value})


def one_owner(cycles: Sequence[Cycle], today: date) -> Finding | None:
    """One person owns more than 60 % of the cycles named in the last 12 months; silent under five cycles."""
    recent = [
        c for c in cycles if (named := _day(c.bottleneck_at)) is not None and (today - named).days <= OWNER_WINDOW_DAYS
    ]
    if len(recent) < OWNER_MIN_CYCLES:
        return None
    owners = Counter(c.owner_id for c in recent if c.owner_id is not None)
    if not owners:
        return None
    # Ties go to the lower id, so the finding names the same person from one recompute to the next.
    user_id, count = min(owners.items(), key=lambda item: (-item[1], item[0]))
    if count * 100 <= OWNER_MAX_PERCENT * len(recent):
        return None
    return Finding(RadarRule.one_owner, None, {"cycles": count, "total": len(recent)}, user_id=user_id)


def _iterated_without_improvement(cycle: Cycle, situation: Situation) -> bool:
    return (
        cycle.stage == Stage.decided
        and cycle.decision == Decision.iterate
        and situation.case(cycle).kpi_improved is not True
    )


def stuck_iterations(situation: Situation) -> list[Finding]:
    """Three "iterate" decisions in a row along a chain (``previous_cycle_id``), none of whose cycles improved
    its KPI against its own baseline, and no decision since: one finding, on the latest of them."""
    by_id = {c.id: c for c in situation.cycles}
    followers: dict[int, list[Cycle]] = defaultdict(list)
    for c in situation.cycles:
        if c.previous_cycle_id is not None:
            followers[c.previous_cycle_id].append(c)

    def decided_later(cycle: Cycle) -> bool:
        seen: set[int] = set()
        todo = list(followers.get(cycle.id, ()))
        while todo:
            follower = todo.pop()
            if follower.id in seen:
                continue
            seen.add(follower.id)
            if follower.stage == Stage.decided:
                return True
            todo.extend(followers.get(follower.id, ()))
        return False

    found = []
    for cycle in situation.cycles:
        if not _iterated_without_improvement(cycle, situation) or decided_later(cycle):
            continue
        run, current, seen = 1, by_id.get(cycle.previous_cycle_id or -1), {cycle.id}
        while current is not None and current.id not in seen and _iterated_without_improvement(current, situation):
            run, seen = run + 1, seen | {current.id}
            current = by_id.get(current.previous_cycle_id or -1)
        if run >= STUCK_ITERATIONS:
            found.append(Finding(RadarRule.stuck_iterations, cycle.id, {"iterations": run}))
    return found


def evaluate(situation: Situation, today: date) -> list[Finding]:
    """Every finding of the organization as of ``today``, in the rules' order, then by cycle."""
    found: list[Finding | None] = []
    for cycle in situation.cycles:
        found.append(running_cost(cycle, situation))
        rollout = situation.rollouts.get(cycle.id)
        # A cycle moved back from its "scale" decision keeps its rollout's rows, but scales no more.
        if rollout is not None and _scaled(cycle):
            found.append(low_adoption(rollout, today))
        found.append(scaled_unmeasured(cycle, situation, today))
        found.append(no_rollout(cycle, situation, today))
        found.append(target_met_undecided(cycle, situation, today))
        found.append(no_sponsor(cycle, today))
    found.append(one_owner(situation.cycles, today))
    found.extend(stuck_iterations(situation))
    return sorted((f for f in found if f is not None), key=lambda f: (RULE_ORDER[f.rule], f.cycle_id or 0))


def _days_after(anchor: date | None, days: int) -> date | None:
    """The first day a rule counted ``days`` from ``anchor`` applies (its deadline day is still in time)."""
    return anchor + timedelta(days=days + 1) if anchor is not None else None


def next_change(situation: Situation, today: date) -> date | None:
    """The first day after ``today`` on which a rule counted in days may start or stop applying with nothing
    else changed; None when none will. Every threshold any cycle or rollout will cross counts, whether or not
    its other conditions hold: a day too early costs one recompute that finds nothing new, a day too late a
    finding shown late. The figures' day counts are not thresholds (``service.current`` moves them on)."""
    days: list[date | None] = []
    for cycle in situation.cycles:
        # A rule's other conditions count only where they change with an edit alone (stage, decision, sponsor):
        # an edit recomputes at once and asks this again.
        days.append(_days_after(_day(cycle.bottleneck_at), OWNER_WINDOW_DAYS))
        if cycle.stage == Stage.result:
            days.append(_days_after(_day(cycle.result_at), UNDECIDED_DAYS))
        decided = _day(cycle.decided_at)
        if cycle.stage == Stage.decided and cycle.sponsor_id is None:
            days.append(_days_after(decided, SPONSOR_DECIDED_DAYS))
        if not _scaled(cycle):
            continue
        measured = [m.measured_on for m in situation.measurements.get(cycle.id, ())]
        rollout = situation.rollouts.get(cycle.id)
        if rollout is not None:
            days.append(_days_after(rollout.started_on, ADOPTION_CHECK_DAYS))
            measured += [m.measured_on for m in rollout.measurements]
        last = max((day for day in (decided, *measured) if day is not None), default=None)
        days += [
            _days_after(decided, SCALE_WATCH_DAYS),
            _days_after(last, SCALED_UNMEASURED_DAYS),
            _days_after(decided, ROLLOUT_DUE_DAYS),
        ]
    return min((day for day in days if day is not None and day > today), default=None)
