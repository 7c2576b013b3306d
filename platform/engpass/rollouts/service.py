"""Opening and changing a cycle's rollout and its measurements: the domain functions the pages and the API
share. Each change lands in the audit log in the caller's transaction; the rules refuse with words the
form or the problem document shows.

Only a cycle decided "scale" has a rollout: iterate and drop set nothing out to reach. A change marks the
trends changed from today: no weekly figure reads a rollout, but the dashboard's cached attention list (whose
key is the trends' version) shows its due re-measurements.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engpass.audit.service import apply_changes, audit_value, record
from engpass.cycles.models import Cycle, Decision, Stage
from engpass.cycles.rules import StageRuleViolation
from engpass.cycles.service import MeasuredInFuture, organization_today
from engpass.rollouts.models import Reach, Rollout, RolloutMeasurement
from engpass.trends.service import mark_changed

ROLLOUT_FIELDS = (
    "reach",
    "target_description",
    "target_count",
    "one_off_cost",
    "running_cost_per_month",
    "started_on",
    "target_on",
)
MEASUREMENT_FIELDS = ("measured_on", "reached", "kpi_value", "hours_per_week", "cost_per_week", "note")

TARGET_BEFORE_START = _l("The target date cannot be before the start.")
BEFORE_START = _l("A rollout can only be measured from its start on.")


class NotScaled(ValueError):
    """The cycle is not decided "scale": there is nothing to roll out."""


def is_scaled(cycle: Cycle) -> bool:
    return cycle.stage == Stage.decided and cycle.decision == Decision.scale


def rollout_of(session: Session, cycle: Cycle) -> Rollout | None:
    """The cycle's rollout with its measurements, in two queries however many there are."""
    return session.scalar(
        select(Rollout).where(Rollout.cycle_id == cycle.id).options(selectinload(Rollout.measurements))
    )


def _check_rollout(data: dict[str, Any]) -> None:
    start, target = data.get("started_on"), data.get("target_on")
    if start is not None and target is not None and target < start:
        raise StageRuleViolation([TARGET_BEFORE_START])


def save_rollout(session: Session, cycle: Cycle, data: dict[str, Any], actor_id: int | None) -> Rollout:
    """Open the cycle's rollout, or change it. Raises NotScaled unless the cycle is decided "scale"."""
    if not is_scaled(cycle):
        raise NotScaled(cycle.id)
    _check_rollout(data)
    rollout = session.scalar(select(Rollout).where(Rollout.cycle_id == cycle.id))
    created = rollout is None
    if rollout is None:
        rollout = Rollout(cycle_id=cycle.id, created_by_id=actor_id, reach=Reach.people, target_description="")
        session.add(rollout)
    values = {**data, "target_description": data.get("target_description") or ""}
    if "reach" in values:
        values["reach"] = Reach(values["reach"])
    changes = apply_changes(rollout, ROLLOUT_FIELDS, values)
    session.flush()
    if created or changes:
        record(
            session,
            "rollout.opened" if created else "rollout.updated",
            actor_id=actor_id,
            object_type="cycle",
            object_id=cycle.id,
            changes=changes,
        )
        mark_changed(session, organization_today(session, cycle))
    return rollout


def _check_measured_on(session: Session, cycle: Cycle, rollout: Rollout, measured_on: date | None) -> None:
    """The cycle's measurement date rules: nothing after the organization's today, nothing before the start."""
    if measured_on is None:
        return
    if measured_on > (today := organization_today(session, cycle)):
        raise MeasuredInFuture(today)
    if measured_on < rollout.started_on:
        raise StageRuleViolation([BEFORE_START])


def _record_measurement(
    session: Session, action: str, cycle: Cycle, measurement: RolloutMeasurement, changes: dict, actor_id: int | None
) -> None:
    record(
        session,
        action,
        actor_id=actor_id,
        object_type="cycle",
        object_id=cycle.id,
        measurement_id=measurement.id,
        changes=changes,
    )


def add_measurement(
    session: Session, cycle: Cycle, rollout: Rollout, data: dict[str, Any], actor_id: int | None
) -> RolloutMeasurement:
    """Raises MeasuredInFuture for a day after the organization's today."""
    _check_measured_on(session, cycle, rollout, data.get("measured_on"))
    measurement = RolloutMeasurement(rollout_id=rollout.id, created_by_id=actor_id)
    changes = apply_changes(measurement, MEASUREMENT_FIELDS, {**data, "note": data.get("note") or ""})
    session.add(measurement)
    session.flush()
    session.expire(rollout, ["measurements"])
    _record_measurement(session, "rollout_measurement.added", cycle, measurement, changes, actor_id)
    mark_changed(session, organization_today(session, cycle))
    return measurement


def update_measurement(
    session: Session,
    cycle: Cycle,
    rollout: Rollout,
    measurement: RolloutMeasurement,
    data: dict[str, Any],
    actor_id: int | None,
) -> dict[str, list[Any]]:
    _check_measured_on(session, cycle, rollout, data.get("measured_on"))
    values = {**data, "note": data["note"] or ""} if "note" in data else data
    changes = apply_changes(measurement, MEASUREMENT_FIELDS, values)
    if changes:
        _record_measurement(session, "rollout_measurement.updated", cycle, measurement, changes, actor_id)
        mark_changed(session, organization_today(session, cycle))
    return changes


def delete_measurement(
    session: Session, cycle: Cycle, rollout: Rollout, measurement: RolloutMeasurement, actor_id: int | None
) -> None:
    changes = {name: [audit_value(getattr(measurement, name)), None] for name in MEASUREMENT_FIELDS}
    _record_measurement(session, "rollout_measurement.deleted", cycle, measurement, changes, actor_id)
    session.delete(measurement)
    session.flush()
    session.expire(rollout, ["measurements"])
    mark_changed(session, organization_today(session, cycle))
