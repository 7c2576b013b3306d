"""The API's documents of the bottleneck candidates: the backlog, proposing, changing, merging, picking,
dismissing and reopening one; the field types and conventions are those of ``api/schema_fields.py``."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from engpass.api.page_schemas import PageArgsSchema, PageSchema, cursor
from engpass.api.schema_fields import (
    DecimalString,
    UtcDateTime,
    code,
    code_out,
    number,
    object_id,
    one_change_at_least,
    text,
)
from engpass.candidates.forms import REASON_MAX, WHO_MAX
from engpass.candidates.models import CandidateStatus, DataAvailable, Effort
from engpass.cycles.forms import HOURS_BELOW, MONEY_BELOW, TEXT_MAX, TITLE_MAX
from engpass.cycles.models import Category


class CandidateListArgsSchema(PageArgsSchema):
    cursor = cursor("candidate")
    status = code(
        CandidateStatus,
        load_default=CandidateStatus.open,
        metadata={"description": "Which candidates: the open backlog by default."},
    )


class CandidateCreateSchema(Schema):
    title = text(TITLE_MAX, blank=False, required=True)
    category = code(Category, load_default=Category.other)
    who_feels_it = text(WHO_MAX, load_default="", metadata={"description": "Free text, e.g. “Sales, 4 people”."})
    description = text(TEXT_MAX, multiline=True, load_default="")
    hours_per_week = number(
        HOURS_BELOW, 2, allow_none=True, load_default=None, metadata={"description": "null: unknown."}
    )
    cost_per_week = number(
        MONEY_BELOW, 2, allow_none=True, load_default=None, metadata={"description": "null: unknown."}
    )
    effort = code(Effort, load_default=Effort.unknown)
    data_available = code(DataAvailable, load_default=DataAvailable.unknown)


class CandidatePatchSchema(Schema):
    """Any subset of an open candidate's fields: its proposer's, or anyone's for owners and admins."""

    class Meta:
        json_schema: dict[str, Any] = {}  # filled in by one_change_at_least below

    title = text(TITLE_MAX, blank=False)
    category = code(Category)
    who_feels_it = text(WHO_MAX)
    description = text(TEXT_MAX, multiline=True)
    hours_per_week = number(HOURS_BELOW, 2, allow_none=True)
    cost_per_week = number(MONEY_BELOW, 2, allow_none=True)
    effort = code(Effort)
    data_available = code(DataAvailable)

    @validates_schema
    def _something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ValidationError("Send at least one field to change.")


one_change_at_least(CandidatePatchSchema)


class CandidateMergeSchema(Schema):
    into_id = object_id(
        required=True, metadata={"description": "The open candidate that stays; this one is merged into it."}
    )


class CandidatePickSchema(Schema):
    confirm_second_open = fields.Boolean(
        load_default=False,
        metadata={"description": "Work on a second bottleneck while another cycle is open (else 409)."},
    )


class CandidateDismissSchema(Schema):
    reason = text(REASON_MAX, blank=False, multiline=True, required=True)


class CandidateReopenSchema(Schema):
    """An empty object: reopening needs nothing but the candidate."""


class CandidateSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    category = code_out(Category, required=True)
    who_feels_it = fields.String(required=True)
    description = fields.String(required=True)
    currency = fields.String(required=True, metadata={"description": "ISO 4217 code of every money field."})
    hours_per_week = DecimalString(required=True, allow_none=True, metadata={"description": "null: unknown."})
    cost_per_week = DecimalString(required=True, allow_none=True, metadata={"description": "null: unknown."})
    cost_per_year = DecimalString(
        required=True,
        allow_none=True,
        metadata={
            "description": "(hours_per_week × hourly rate + cost_per_week) × working weeks per year, with the "
            "organization's settings; null when both numbers are unknown (ranked last, never 0)."
        },
    )
    cost_formula = fields.String(required=True, metadata={"description": "The arithmetic, in the request's language."})
    effort = code_out(Effort, required=True)
    data_available = code_out(DataAvailable, required=True)
    status = code_out(CandidateStatus, required=True)
    cycle_id = fields.Integer(required=True, allow_none=True, metadata={"description": "The cycle it became."})
    merged_into_id = fields.Integer(required=True, allow_none=True)
    dismissed_reason = fields.String(required=True, allow_none=True)
    proposed_by_id = fields.Integer(required=True, allow_none=True)
    proposer_name = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "null for a consultant's token: a consultancy never sees the client's members."},
    )
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    web_url = fields.String(required=True, metadata={"description": "The backlog's page in Engpass."})


class CandidatePageSchema(PageSchema):
    items = fields.List(fields.Nested(CandidateSchema), required=True)
