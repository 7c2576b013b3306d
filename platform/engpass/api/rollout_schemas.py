"""The API's documents of a scaled cycle's rollout: the rollout, its measurements and the business case at
scale; the field types and conventions are those of ``api/schema_fields.py``."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engpass.api.schema_fields import (
    DecimalString,
    JsonInteger,
    UtcDateTime,
    code,
    code_out,
    day,
    number,
    text,
)
from engpass.cycles.forms import KPI_BELOW, MONEY_BELOW, NOTE_MAX
from engpass.form_fields import HOURS_BELOW
from engpass.rollouts.checkpoints import State
from engpass.rollouts.forms import COUNT_BELOW, DESCRIPTION_MAX
from engpass.rollouts.models import Reach

COUNT_MAX = int(COUNT_BELOW) - 1
EFFECT_FIELDS = ("reached", "kpi_value", "hours_per_week", "cost_per_week")


class RolloutPutSchema(Schema):
    """The whole rollout: opens it, or replaces its fields. Only a cycle decided "scale" has one (else 409)."""

    reach = code(Reach, required=True, metadata={"description": "What it counts: people, sites or processes."})
    target_description = text(DESCRIPTION_MAX, load_default="")
    target_count = JsonInteger(required=True, validate=validate.Range(min=1, max=COUNT_MAX))
    one_off_cost = number(MONEY_BELOW, 2, allow_none=True, load_default=None)
    running_cost_per_month = number(MONEY_BELOW, 2, allow_none=True, load_default=None)
    # The 30/60/90-day re-measurements count from the start; the target date is not before it (409).
    started_on = day(required=True)
    target_on = day(allow_none=True, load_default=None)


class CheckpointSchema(Schema):
    days = fields.Integer(required=True, metadata={"description": "30, 60 or 90 days after the start."})
    on = fields.Date(required=True)
    state = code_out(State, required=True)
    measurement_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The measurement that meets it."}
    )


class AtScaleSchema(Schema):
    """docs/rollouts.md: the prototype's proven effect beside the effect at scale; null figures lack numbers."""

    target_count = fields.Integer(required=True)
    reached = fields.Integer(required=True, allow_none=True, metadata={"description": "The latest measured."})
    adoption_percent = DecimalString(required=True, allow_none=True, metadata={"description": "reached ÷ target"})
    prototype_savings_per_year = DecimalString(required=True, allow_none=True)
    savings_per_year = DecimalString(
        required=True,
        allow_none=True,
        metadata={"description": "From the latest effect measured at scale, net of both running costs."},
    )
    one_off_cost = DecimalString(required=True, allow_none=True)
    running_cost_per_year = DecimalString(required=True, allow_none=True)
    first_year_cost = DecimalString(required=True, allow_none=True)
    payback_weeks = DecimalString(required=True, allow_none=True, metadata={"description": "One-off ÷ weekly saving"})
    checkpoints = fields.List(fields.Nested(CheckpointSchema), required=True)
    retained_percent = DecimalString(
        required=True,
        allow_none=True,
        metadata={"description": "The 90-day KPI improvement in percent of the prototype's."},
    )
    sustained = fields.Boolean(required=True, allow_none=True)
    sustained_min_percent = DecimalString(required=True, metadata={"description": "The rule's threshold."})


class RolloutSchema(Schema):
    id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    reach = code_out(Reach, required=True)
    target_description = fields.String(required=True)
    target_count = fields.Integer(required=True)
    one_off_cost = DecimalString(required=True, allow_none=True)
    running_cost_per_month = DecimalString(required=True, allow_none=True)
    started_on = fields.Date(required=True)
    target_on = fields.Date(required=True, allow_none=True)
    currency = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    at_scale = fields.Nested(AtScaleSchema, required=True)


class RolloutMeasurementCreateSchema(Schema):
    """Adoption, and optionally the effect at scale; at least one of them not null, not before the rollout's
    start and not after today in the organization's time zone (else 409)."""

    measured_on = day(required=True)
    reached = JsonInteger(allow_none=True, load_default=None, validate=validate.Range(min=0, max=COUNT_MAX))
    kpi_value = number(KPI_BELOW, 4, negative=True, allow_none=True, load_default=None)
    hours_per_week = number(HOURS_BELOW, 2, allow_none=True, load_default=None)
    cost_per_week = number(MONEY_BELOW, 2, allow_none=True, load_default=None)
    note = text(NOTE_MAX, multiline=True, load_default="")


class RolloutMeasurementPatchSchema(Schema):
    """Any subset of a measurement's fields."""

    class Meta:
        json_schema: dict[str, Any] = {
            "anyOf": [{"required": [name]} for name in ("measured_on", *EFFECT_FIELDS, "note")]
        }

    measured_on = day()
    reached = JsonInteger(allow_none=True, validate=validate.Range(min=0, max=COUNT_MAX))
    kpi_value = number(KPI_BELOW, 4, negative=True, allow_none=True)
    hours_per_week = number(HOURS_BELOW, 2, allow_none=True)
    cost_per_week = number(MONEY_BELOW, 2, allow_none=True)
    note = text(NOTE_MAX, multiline=True)

    @validates_schema
    def _something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ValidationError("Send at least one field to change.")


class RolloutMeasurementSchema(Schema):
    id = fields.Integer(required=True)
    rollout_id = fields.Integer(required=True)
    measured_on = fields.Date(required=True)
    reached = fields.Integer(required=True, allow_none=True)
    kpi_value = DecimalString(required=True, allow_none=True)
    hours_per_week = DecimalString(required=True, allow_none=True)
    cost_per_week = DecimalString(required=True, allow_none=True)
    currency = fields.String(required=True)
    note = fields.String(required=True)
    created_by_id = fields.Integer(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)
