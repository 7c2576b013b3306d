"""The API's documents of a cycle's measurements: listing and recording them; the field types and
conventions are those of ``api/schema_fields.py``."""

from __future__ import annotations

from marshmallow import Schema, fields

from engpass.api.page_schemas import PageArgsSchema, PageSchema, cursor
from engpass.api.schema_fields import DecimalString, UtcDateTime, confirm_implausible, day, number, text
from engpass.cycles.forms import HOURS_BELOW, KPI_BELOW, MONEY_BELOW, NOTE_MAX


class MeasurementListArgsSchema(PageArgsSchema):
    cursor = cursor("measurement")


class MeasurementCreateSchema(Schema):
    measured_on = day(required=True)
    kpi_value = number(KPI_BELOW, 4, negative=True, required=True)
    hours_per_week = number(HOURS_BELOW, 2, allow_none=True)
    cost_per_week = number(MONEY_BELOW, 2, allow_none=True)
    note = text(NOTE_MAX, multiline=True, load_default="")
    confirm_implausible = confirm_implausible()


class MeasurementSchema(Schema):
    id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    measured_on = fields.Date(required=True)
    kpi_value = DecimalString(required=True)
    hours_per_week = DecimalString(required=True, allow_none=True)
    cost_per_week = DecimalString(required=True, allow_none=True)
    currency = fields.String(required=True)
    note = fields.String(required=True)
    created_by_id = fields.Integer(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)


class MeasurementPageSchema(PageSchema):
    items = fields.List(fields.Nested(MeasurementSchema), required=True)
