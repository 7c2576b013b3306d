"""Changing cycles: every change checks the method's rules and lands in the audit log.

Functions take the session and the acting user's id and work inside the current
organization (the tenancy layer scopes every query and stamps every insert).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engpass.audit.service import apply_changes, audit_value, record
from engpass.cycles.models import STAGE_ORDER, Cycle, Measurement, ProcessStep, Stage, StageChange
from engpass.cycles.rules import StageRuleViolation, default_target, problems_to_enter
from engpass.cycles.sponsors import check_sponsor
from engpass.db import utcnow
from engpass.i18n import today_in
from engpass.organizations.models import Organization
from engpass.tenancy import require_org_id
from engpass.trends.service import mark_changed
from engpass.webhooks.events import emit

BOTTLENECK_FIELDS = ("title", "category", "why", "owner_id")
BASELINE_FIELDS = (
    "hours_per_week",
    "direct_cost_per_week",
    "kpi_name",
    "kpi_unit",
    "kpi_direction",
    "kpi_baseline",
    "kpi_target",
    "kpi_value_per_unit",
    "kpi_period",
)
SOLUTION_FIELDS = (
    "solution_what",
    "solution_type",
    "expected_effect",
    "effort_days",
    "one_off_cost",
    "running_cost_per_month",
    "forecast_hours_per_week",
    "forecast_kpi",
    "forecast_cost_per_week",
)
PROTOTYPE_FIELDS = ("prototype_start", "prototype_target")
LESSON_FIELDS = ("lessons_worked", "lessons_failed", "lessons_differently")
DECISION_FIELDS = ("decision", "decision_reason", *LESSON_FIELDS)
MEASUREMENT_FIELDS = ("measured_on", "kpi_value", "hours_per_week", "cost_per_week", "note")


class FocusConfirmationRequired(ValueError):
    """Another cycle is still open; the method asks for one bottleneck at a time."""

    def __init__(self, open_cycles: list[Cycle]) -> None:
        super().__init__("another cycle is open")
        self.open_cycles = open_cycles


class MeasuredInFuture(ValueError):
    """A measurement dated after today where the organization works: it would feed the business case and the
    chart with a result nobody has measured yet."""

    def __init__(self, today: date) -> None:
        super().__init__(f"measured after {today}")
        self.today = today


@dataclass(frozen=True)
class StepInput:
    name: str
    role: str
    minutes: int


def _first_day(cycle: Cycle) -> date | None:
    """The earliest day the cycle shows in the trend: undated fields such as the baseline count for its
    whole life, so an edit can change every week from its first stage timestamp (or prototype start) on."""
    days = [at.date() for stage in STAGE_ORDER if (at := getattr(cycle, f"{stage.value}_at")) is not None]
    if cycle.prototype_start is not None:
        days.append(cycle.prototype_start)
    return min(days, default=None)


def _earliest(*days: date | None) -> date | None:
    """The earliest of the days a change affects; None (every week) when one of them is unknown."""
    known = [day for day in days if day is not None]
    return min(known) if len(known) == len(days) else None


def open_cycles(session: Session, exclude_id: int | None = None) -> list[Cycle]:
    stmt = select(Cycle).where(Cycle.stage != Stage.decided).order_by(Cycle.created_at)
    if exclude_id is not None:
        stmt = stmt.where(Cycle.id != exclude_id)
    return list(session.scalars(stmt))


def measurement_count(session: Session, cycle: Cycle) -> int:
    return session.scalar(select(func.count(Measurement.id)).where(Measurement.cycle_id == cycle.id)) or 0


def measurement_counts(session: Session, cycle_ids: list[int]) -> dict[int, int]:
    """How many measurements each of these cycles has, in one query (cycles without any are left out)."""
    if not cycle_ids:
        return {}
    stmt = (
        select(Measurement.cycle_id, func.count(Measurement.id))
        .where(Measurement.cycle_id.in_(cycle_ids))
        .group_by(Measurement.cycle_id)
    )
    return {cycle_id: count for cycle_id, count in session.execute(stmt)}


def _move(session: Session, cycle: Cycle, target: Stage, actor_id: int | None) -> None:
    if cycle.stage == target:
        return
    backwards = STAGE_ORDER.index(target) < cycle.stage_index()
    if not backwards:
        problems = problems_to_enter(cycle, target, measurement_count(session, cycle))
        if problems:
            raise StageRuleViolation(problems)
    now = utcnow()
    for stage in STAGE_ORDER[1:]:
        if STAGE_ORDER.index(stage) > STAGE_ORDER.index(target):
            setattr(cycle, f"{stage.value}_at", None)
        elif getattr(cycle, f"{stage.value}_at") is None or stage == target:
            setattr(cycle, f"{stage.value}_at", now)
    session.add(
        StageChange(cycle_id=cycle.id, from_stage=cycle.stage, to_stage=target, backwards=backwards, actor_id=actor_id)
    )
    record(
        session,
        "cycle.stage_changed",
        actor_id=actor_id,
        object_type="cycle",
        object_id=cycle.id,
        changes={"stage": [cycle.stage.value, target.value]},
        backwards=backwards,
    )
    previous = cycle.stage
    cycle.stage = target
    emit(session, "cycle.stage_changed", cycle=cycle, extra={"previous_stage": previous.value, "backwards": backwards})


def change_stage(session: Session, cycle: Cycle, target: Stage, actor_id: int | None) -> None:
    """Move forwards (if the rules allow) or back (always allowed, recorded)."""
    before = _first_day(cycle)
    _move(session, cycle, target, actor_id)
    mark_changed(session, _earliest(before, _first_day(cycle)))


def _save_section(
    session: Session,
    cycle: Cycle,
    stage: Stage,
    fields: tuple[str, ...],
    data: dict[str, Any],
    actor_id: int | None,
    action: str,
) -> dict[str, list[Any]]:
    """Edit one stage's data; saving a later stage's data moves the cycle there, rules permitting."""
    before = _first_day(cycle)
    changes = apply_changes(cycle, fields, data)
    if STAGE_ORDER.index(stage) > cycle.stage_index():
        # Check with the new data in place; the caller's transaction is rolled back on refusal.
        _move(session, cycle, stage, actor_id)
    if changes:
        record(session, action, actor_id=actor_id, object_type="cycle", object_id=cycle.id, changes=changes)
        emit(session, "cycle.updated", cycle=cycle, extra={"changed": sorted(changes)})
    mark_changed(session, _earliest(before, _first_day(cycle)))
    return changes


def create_cycle(
    session: Session,
    *,
    title: str,
    category: Any,
    why: str,
    owner_id: int | None,
    actor_id: int | None,
    sponsor_id: int | None = None,
    previous: Cycle | None = None,
    confirm_second_open: bool = False,
) -> Cycle:
    """A new cycle in the stage *bottleneck*. Raises SponsorRefused for a sponsor who is no owner or admin
    here, FocusConfirmationRequired while another cycle is open and unconfirmed."""
    check_sponsor(session, require_org_id(), sponsor_id)
    others = open_cycles(session, exclude_id=previous.id if previous is not None else None)
    if others and not confirm_second_open:
        raise FocusConfirmationRequired(others)
    cycle = Cycle(
        title=title.strip(),
        category=category,
        why=why.strip(),
        owner_id=owner_id,
        sponsor_id=sponsor_id,
        created_by_id=actor_id,
        previous_cycle_id=previous.id if previous is not None else None,
        focus_warning=bool(others),
    )
    session.add(cycle)
    session.flush()
    session.add(StageChange(cycle_id=cycle.id, from_stage=None, to_stage=Stage.bottleneck, actor_id=actor_id))
    record(
        session,
        "cycle.created",
        actor_id=actor_id,
        object_type="cycle",
        object_id=cycle.id,
        title=cycle.title,
        previous_cycle_id=cycle.previous_cycle_id,
        focus_warning=cycle.focus_warning,
        sponsor_id=cycle.sponsor_id,
    )
    emit(session, "cycle.created", cycle=cycle)
    # A new cycle, and its link to the cycle it follows, are part of the facts from today on.
    mark_changed(session, utcnow().date())
    return cycle


def update_bottleneck(session: Session, cycle: Cycle, data: dict[str, Any], actor_id: int | None) -> dict:
    return _save_section(
        session, cycle, Stage.bottleneck, BOTTLENECK_FIELDS, data, actor_id, "cycle.bottleneck_updated"
    )


def save_baseline(
    session: Session, cycle: Cycle, data: dict[str, Any], steps: list[StepInput] | None, actor_id: int | None
) -> dict:
    changes = _save_section(session, cycle, Stage.baseline, BASELINE_FIELDS, data, actor_id, "cycle.baseline_updated")
    if steps is not None:
        before = [(s.name, s.role, s.minutes) for s in cycle.steps]
        after = [(s.name.strip(), s.role.strip(), s.minutes) for s in steps]
        if before != after:
            cycle.steps.clear()
            session.flush()
            for position, step in enumerate(after, start=1):
                cycle.steps.append(ProcessStep(position=position, name=step[0], role=step[1], minutes=step[2]))
            record(
                session,
                "cycle.process_updated",
                actor_id=actor_id,
                object_type="cycle",
                object_id=cycle.id,
                changes={"steps": [len(before), len(after)]},
            )
            session.flush()
            emit(session, "cycle.updated", cycle=cycle, extra={"changed": sorted([*changes, "steps"])})
    return changes


def save_solution(session: Session, cycle: Cycle, data: dict[str, Any], actor_id: int | None) -> dict:
    return _save_section(session, cycle, Stage.solution, SOLUTION_FIELDS, data, actor_id, "cycle.solution_updated")


def start_prototype(session: Session, cycle: Cycle, data: dict[str, Any], actor_id: int | None) -> dict:
    data = dict(data)
    if data.get("prototype_start") is not None and data.get("prototype_target") is None:
        data["prototype_target"] = default_target(data["prototype_start"])
    return _save_section(session, cycle, Stage.prototype, PROTOTYPE_FIELDS, data, actor_id, "cycle.prototype_updated")


def decide(session: Session, cycle: Cycle, data: dict[str, Any], actor_id: int | None) -> dict:
    """Record the decision with its reason and lessons. Who may decide (the sponsor or an owner) is the
    caller's question: ``organizations.permissions.may_decide``."""
    changes = _save_section(session, cycle, Stage.decided, DECISION_FIELDS, data, actor_id, "cycle.decided")
    if "decision" in changes and cycle.decision is not None:
        emit(session, "decision.recorded", cycle=cycle)
    return changes


def _record_measurement(
    session: Session,
    action: str,
    cycle: Cycle,
    measurement: Measurement,
    changes: dict[str, list[Any]],
    actor_id: int | None,
) -> None:
    """Measurement events belong to their cycle's history, with the measurement named."""
    record(
        session,
        action,
        actor_id=actor_id,
        object_type="cycle",
        object_id=cycle.id,
        measurement_id=measurement.id,
        changes=changes,
    )


def organization_today(session: Session, cycle: Cycle) -> date:
    """Today in the time zone of the cycle's organization."""
    org = session.get(Organization, cycle.organization_id)
    return today_in(org.timezone if org is not None else "UTC")


def _check_measured_on(session: Session, cycle: Cycle, data: dict[str, Any]) -> None:
    measured_on = data.get("measured_on")
    if measured_on is not None and measured_on > (today := organization_today(session, cycle)):
        raise MeasuredInFuture(today)


def add_measurement(session: Session, cycle: Cycle, data: dict[str, Any], actor_id: int | None) -> Measurement:
    """A measured result; the first one moves a running prototype into the result stage.

    Raises MeasuredInFuture for a date after the organization's today.
    """
    if cycle.stage_index() < STAGE_ORDER.index(Stage.prototype):
        raise StageRuleViolation([_l("Measure results once the prototype has started.")])
    _check_measured_on(session, cycle, data)
    measurement = Measurement(cycle_id=cycle.id, created_by_id=actor_id)
    changes = apply_changes(measurement, MEASUREMENT_FIELDS, data)
    session.add(measurement)
    session.flush()
    since = measurement.measured_on
    if cycle.stage == Stage.prototype:
        _move(session, cycle, Stage.result, actor_id)
        since = _earliest(since, utcnow().date())
    _record_measurement(session, "measurement.added", cycle, measurement, changes, actor_id)
    emit(session, "measurement.created", measurement=measurement)
    mark_changed(session, since)
    return measurement


def add_measurements(
    session: Session, cycle: Cycle, rows: list[dict[str, Any]], actor_id: int | None, *, source: str
) -> list[Measurement]:
    """Several measured results at once (an import): ``add_measurement``'s rules for each, one audit event
    with the count and ``source`` (the file's name), one trend recompute from the earliest day.

    Raises MeasuredInFuture like ``add_measurement``; the caller's transaction then holds nothing of them.
    """
    if cycle.stage_index() < STAGE_ORDER.index(Stage.prototype):
        raise StageRuleViolation([_l("Measure results once the prototype has started.")])
    if not rows:
        return []
    for data in rows:
        _check_measured_on(session, cycle, data)
    measurements = []
    for data in rows:
        measurement = Measurement(cycle_id=cycle.id, created_by_id=actor_id)
        apply_changes(measurement, MEASUREMENT_FIELDS, data)
        measurements.append(measurement)
    session.add_all(measurements)
    session.flush()
    since = _earliest(*(measurement.measured_on for measurement in measurements))
    if cycle.stage == Stage.prototype:
        _move(session, cycle, Stage.result, actor_id)
        since = _earliest(since, utcnow().date())
    record(
        session,
        "measurements.imported",
        actor_id=actor_id,
        object_type="cycle",
        object_id=cycle.id,
        count=len(measurements),
        source=source,
    )
    for measurement in measurements:
        emit(session, "measurement.created", measurement=measurement)
    mark_changed(session, since)
    return measurements


def update_measurement(
    session: Session, cycle: Cycle, measurement: Measurement, data: dict[str, Any], actor_id: int | None
) -> dict:
    _check_measured_on(session, cycle, data)
    measured_before = measurement.measured_on
    changes = apply_changes(measurement, MEASUREMENT_FIELDS, data)
    if changes:
        _record_measurement(session, "measurement.updated", cycle, measurement, changes, actor_id)
        emit(session, "measurement.updated", measurement=measurement, extra={"changed": sorted(changes)})
    mark_changed(session, _earliest(measured_before, measurement.measured_on))
    return changes


def delete_measurement(session: Session, cycle: Cycle, measurement: Measurement, actor_id: int | None) -> None:
    """A decided cycle keeps at least one measurement: its decision rests on it."""
    if cycle.stage == Stage.decided and measurement_count(session, cycle) <= 1:
        raise StageRuleViolation([_l("A decided cycle keeps at least one measurement. Go back a stage first.")])
    changes = {name: [audit_value(getattr(measurement, name)), None] for name in MEASUREMENT_FIELDS}
    _record_measurement(session, "measurement.deleted", cycle, measurement, changes, actor_id)
    emit(session, "measurement.deleted", measurement=measurement)
    session.delete(measurement)
    mark_changed(session, measurement.measured_on)


def start_next_cycle(
    session: Session,
    previous: Cycle,
    *,
    title: str,
    category: Any,
    why: str,
    owner_id: int | None,
    actor_id: int | None,
    sponsor_id: int | None = None,
    confirm_second_open: bool = False,
) -> Cycle:
    """ "Nächster Engpass": only after a decision, linked to the decided cycle."""
    if previous.stage != Stage.decided:
        raise StageRuleViolation([_l("Decide this cycle before picking the next bottleneck.")])
    return create_cycle(
        session,
        title=title,
        category=category,
        why=why,
        owner_id=owner_id,
        actor_id=actor_id,
        sponsor_id=sponsor_id,
        previous=previous,
        confirm_second_open=confirm_second_open,
    )


def delete_cycle(session: Session, cycle: Cycle, actor_id: int | None) -> None:
    record(session, "cycle.deleted", actor_id=actor_id, object_type="cycle", object_id=cycle.id, title=cycle.title)
    emit(session, "cycle.deleted", cycle=cycle)
    since = _first_day(cycle)
    session.delete(cycle)
    mark_changed(session, since)


def chain_of(session: Session, cycle: Cycle) -> list[Cycle]:
    """The chain through ``cycle``, oldest first: its predecessors, then the earliest follower of each.

    One query for all of the organization's cycles (a few dozen rows), so the page's query count
    does not grow with the chain.
    """
    by_id = {c.id: c for c in session.scalars(select(Cycle))}
    chain = [cycle]
    while chain[0].previous_cycle_id in by_id and by_id[chain[0].previous_cycle_id] not in chain:
        chain.insert(0, by_id[chain[0].previous_cycle_id])
    followers: dict[int, list[Cycle]] = {}
    for candidate in sorted(by_id.values(), key=lambda c: (c.created_at, c.id)):
        if candidate.previous_cycle_id is not None:
            followers.setdefault(candidate.previous_cycle_id, []).append(candidate)
    while True:
        following = [c for c in followers.get(chain[-1].id, []) if c not in chain]
        if not following:
            return chain
        chain.append(following[0])
