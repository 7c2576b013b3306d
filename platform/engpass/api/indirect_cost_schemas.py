"""The API's documents of a cycle's indirect cost items: adding, changing and reading one; the field
types and conventions are those of ``api/schema_fields.py``."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engpass.api.schema_fields import (
    DecimalString,
    JsonInteger,
    UtcDateTime,
    code,
    code_out,
    number,
    one_change_at_least,
    text,
)
from engpass.cycles.forms import HOURS_BELOW, MONEY_BELOW
from engpass.cycles.indirect_forms import LABEL_MAX, PEOPLE_MAX, SOURCE_NOTE_MAX
from engpass.cycles.models import CostSource, IndirectKind, Period


class IndirectCostItemCreateSchema(Schema):
    """One indirect cost item. The kind decides which numbers its formula uses (docs/business-case.md):
    errors, lost orders and penalties `quantity` × `unit_value`; waiting `quantity` (hours per person) ×
    `people_affected` × the hourly rate; other `unit_value`. One the kind needs and lacks is a 409; those it
    does not use are stored empty."""

    label = text(LABEL_MAX, load_default="", metadata={"description": "What it is, e.g. rework on quotes."})
    kind = code(IndirectKind, required=True)
    quantity = number(HOURS_BELOW, 2, allow_none=True, metadata={"description": "How many per period."})
    unit_value = number(MONEY_BELOW, 2, allow_none=True, metadata={"description": "Money per unit, in `currency`."})
    people_affected = JsonInteger(allow_none=True, validate=validate.Range(min=1, max=PEOPLE_MAX))
    period = code(Period, required=True, metadata={"description": "What `quantity` counts per."})
    source = code(CostSource, required=True, metadata={"description": "Where the number comes from."})
    source_note = text(SOURCE_NOTE_MAX, load_default="")


class IndirectCostItemPatchSchema(Schema):
    """Any subset of an item's fields."""

    class Meta:
        json_schema: dict[str, Any] = {}  # filled in by one_change_at_least below

    label = text(LABEL_MAX)
    kind = code(IndirectKind)
    quantity = number(HOURS_BELOW, 2, allow_none=True)
    unit_value = number(MONEY_BELOW, 2, allow_none=True)
    people_affected = JsonInteger(allow_none=True, validate=validate.Range(min=1, max=PEOPLE_MAX))
    period = code(Period)
    source = code(CostSource)
    source_note = text(SOURCE_NOTE_MAX)

    @validates_schema
    def _something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ValidationError("Send at least one field to change.")


one_change_at_least(IndirectCostItemPatchSchema)


class IndirectCostItemSchema(Schema):
    id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    position = fields.Integer(required=True)
    label = fields.String(required=True)
    kind = code_out(IndirectKind, required=True)
    quantity = DecimalString(required=True, allow_none=True)
    unit_value = DecimalString(required=True, allow_none=True)
    people_affected = fields.Integer(required=True, allow_none=True)
    period = code_out(Period, required=True)
    source = code_out(CostSource, required=True)
    source_note = fields.String(required=True)
    cost_per_year = DecimalString(required=True, metadata={"description": "By the kind's formula, in `currency`."})
    formula = fields.String(required=True, metadata={"description": "The arithmetic, in the request's language."})
    currency = fields.String(required=True)
    created_at = UtcDateTime(required=True)
