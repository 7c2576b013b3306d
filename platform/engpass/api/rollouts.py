"""A scaled cycle's rollout over the API: reading and putting it, and its measurements.

Each change goes through ``rollouts.service`` — the same rules and audit events as the cycle page. The
figures at scale are ``rollouts.figures``', the same as the page's and the PDF's.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_babel import gettext as _

from engpass.api.blueprint import bp, endpoint
from engpass.api.problems import ApiProblem, rule_violation
from engpass.api.rollout_schemas import (
    EFFECT_FIELDS,
    RolloutMeasurementCreateSchema,
    RolloutMeasurementPatchSchema,
    RolloutMeasurementSchema,
    RolloutPutSchema,
    RolloutSchema,
)
from engpass.cycles import measurement_reads
from engpass.cycles.business_case import compute
from engpass.cycles.models import Cycle
from engpass.cycles.rules import StageRuleViolation
from engpass.cycles.service import MeasuredInFuture
from engpass.db import db
from engpass.i18n import today_in
from engpass.organizations.permissions import Action
from engpass.rollouts import service
from engpass.rollouts.figures import SUSTAINED_MIN_PERCENT, scale_case
from engpass.rollouts.models import Rollout, RolloutMeasurement

TAG = "Rollouts"
MEASUREMENT_FIELDS = tuple(name for name in RolloutMeasurementSchema().fields if name != "currency")


def at_scale_document(cycle: Cycle, rollout: Rollout) -> dict[str, Any]:
    """The business case at scale; ``rollout.measurements`` loaded."""
    # The latest measurement is all the business case needs, however many the cycle has.
    latest = measurement_reads.latest(db.session(), cycle, limit=1)
    case = compute(cycle, latest, g.org.default_hourly_rate, g.org.working_weeks_per_year)
    today = today_in(g.org.timezone)
    scale = scale_case(cycle, rollout, case, g.org.default_hourly_rate, g.org.working_weeks_per_year, today)
    return {
        "target_count": scale.target_count,
        "reached": scale.reached,
        "adoption_percent": scale.adoption_percent,
        "prototype_savings_per_year": scale.prototype_euros_per_year,
        "savings_per_year": scale.scale_euros_per_year,
        "one_off_cost": scale.cost.one_off,
        "running_cost_per_year": scale.cost.per_year,
        "first_year_cost": scale.cost.first_year,
        "payback_weeks": scale.payback_weeks,
        "checkpoints": [
            {
                "days": c.days,
                "on": c.on,
                "state": c.state.value,
                "measurement_id": c.measurement.id if c.measurement is not None else None,
            }
            for c in scale.checkpoints
        ],
        "retained_percent": scale.retained_percent,
        "sustained": scale.sustained,
        "sustained_min_percent": SUSTAINED_MIN_PERCENT,
    }


def _document(cycle: Cycle, rollout: Rollout) -> dict[str, Any]:
    names = ("id", "cycle_id", "reach", "target_description", "target_count", "one_off_cost")
    names += ("running_cost_per_month", "started_on", "target_on", "created_at")
    return {
        **{name: getattr(rollout, name) for name in names},
        "currency": g.org.currency,
        "at_scale": at_scale_document(cycle, rollout),
    }


def _measurement_document(measurement: RolloutMeasurement) -> dict[str, Any]:
    return {**{name: getattr(measurement, name) for name in MEASUREMENT_FIELDS}, "currency": g.org.currency}


def _cycle_or_404(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    return cycle


def rollout_of_scaled(cycle: Cycle) -> Rollout | None:
    """The rollout a cycle decided "scale" has opened, with its measurements; None for any other."""
    return service.rollout_of(db.session(), cycle) if service.is_scaled(cycle) else None


def _rollout_or_404(cycle: Cycle) -> Rollout:
    rollout = rollout_of_scaled(cycle)
    if rollout is None:
        abort(404)
    return rollout


def _measurement_or_404(rollout: Rollout, measurement_id: int) -> RolloutMeasurement:
    measurement = db.session.get(RolloutMeasurement, measurement_id)
    if measurement is None or measurement.rollout_id != rollout.id:
        abort(404)
    return measurement


def _refused(error: Exception, field: str) -> ApiProblem:
    """The service's refusals as the 409 of a rule; "after today" depends on the day and the time zone."""
    db.session.rollback()
    if isinstance(error, MeasuredInFuture):
        message = _(
            "A measurement cannot be dated after today (%(today)s in the organization's time zone).",
            today=error.today.isoformat(),
        )
        return rule_violation([message], field)
    if isinstance(error, StageRuleViolation):
        return rule_violation(error.problems, field)
    return rule_violation([_("Only a cycle decided “scale” has a rollout.")], "decision")


def _check_figures(data: dict[str, Any]) -> None:
    """A measurement says how many are reached, or the effect, or both: the form's rule, a 409 here."""
    if all(data.get(name) is None for name in EFFECT_FIELDS):
        message = _("Please enter how many are reached, or the effect measured at scale.")
        raise rule_violation([message], "reached")


@endpoint("/cycles/<int:cycle_id>/rollout", "GET", Action.view_cycles, tag=TAG)
@bp.response(200, RolloutSchema)
def get_rollout(cycle_id: int) -> dict[str, Any]:
    """The scaled cycle's rollout with its business case at scale; 404 until it is opened."""
    cycle = _cycle_or_404(cycle_id)
    return _document(cycle, _rollout_or_404(cycle))


@endpoint("/cycles/<int:cycle_id>/rollout", "PUT", Action.edit_cycle, tag=TAG, errors=(409,))
@bp.arguments(RolloutPutSchema)
@bp.response(200, RolloutSchema)
def put_rollout(data: dict[str, Any], cycle_id: int) -> dict[str, Any]:
    """Open the rollout of a cycle decided "scale", or replace its fields."""
    cycle = _cycle_or_404(cycle_id)
    try:
        service.save_rollout(db.session(), cycle, data, g.api_user.id)
    except (service.NotScaled, StageRuleViolation) as refused:
        raise _refused(refused, "target_on") from None
    db.session.commit()
    return _document(cycle, _rollout_or_404(cycle))


@endpoint("/cycles/<int:cycle_id>/rollout/measurements", "GET", Action.view_cycles, tag=TAG)
@bp.response(200, RolloutMeasurementSchema(many=True))
def list_rollout_measurements(cycle_id: int) -> list[dict[str, Any]]:
    """The rollout's measurements, oldest first."""
    rollout = _rollout_or_404(_cycle_or_404(cycle_id))
    return [_measurement_document(m) for m in rollout.measurements]


@endpoint("/cycles/<int:cycle_id>/rollout/measurements", "POST", Action.record_measurement, tag=TAG, errors=(409,))
@bp.arguments(RolloutMeasurementCreateSchema)
@bp.response(201, RolloutMeasurementSchema)
def add_rollout_measurement(data: dict[str, Any], cycle_id: int) -> tuple[dict[str, Any], int]:
    """Record adoption and, optionally, the effect at scale."""
    cycle = _cycle_or_404(cycle_id)
    rollout = _rollout_or_404(cycle)
    _check_figures(data)
    try:
        measurement = service.add_measurement(db.session(), cycle, rollout, data, g.api_user.id)
    except (MeasuredInFuture, StageRuleViolation) as refused:
        raise _refused(refused, "measured_on") from None
    db.session.commit()
    return _measurement_document(measurement), 201


@endpoint(
    "/cycles/<int:cycle_id>/rollout/measurements/<int:measurement_id>",
    "PATCH",
    Action.record_measurement,
    tag=TAG,
    errors=(409,),
)
@bp.arguments(RolloutMeasurementPatchSchema)
@bp.response(200, RolloutMeasurementSchema)
def update_rollout_measurement(data: dict[str, Any], cycle_id: int, measurement_id: int) -> dict[str, Any]:
    """Change any of a measurement's fields; it keeps `reached` or a figure of the effect (else 409)."""
    cycle = _cycle_or_404(cycle_id)
    rollout = _rollout_or_404(cycle)
    measurement = _measurement_or_404(rollout, measurement_id)
    _check_figures({name: data.get(name, getattr(measurement, name)) for name in EFFECT_FIELDS})
    try:
        service.update_measurement(db.session(), cycle, rollout, measurement, data, g.api_user.id)
    except (MeasuredInFuture, StageRuleViolation) as refused:
        raise _refused(refused, "measured_on") from None
    db.session.commit()
    return _measurement_document(measurement)


@endpoint(
    "/cycles/<int:cycle_id>/rollout/measurements/<int:measurement_id>", "DELETE", Action.record_measurement, tag=TAG
)
@bp.response(204)
def delete_rollout_measurement(cycle_id: int, measurement_id: int) -> tuple[str, int]:
    """Delete a rollout measurement."""
    cycle = _cycle_or_404(cycle_id)
    rollout = _rollout_or_404(cycle)
    service.delete_measurement(
        db.session(), cycle, rollout, _measurement_or_404(rollout, measurement_id), g.api_user.id
    )
    db.session.commit()
    return "", 204
