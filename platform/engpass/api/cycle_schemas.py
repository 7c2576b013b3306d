"""The API's documents of a cycle: listing, starting, changing and moving it, and the cycle with its
forecast; the field types and conventions are those of ``api/schema_fields.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from engpass.api.indirect_cost_schemas import IndirectCostItemSchema
from engpass.api.page_schemas import PageArgsSchema, PageSchema, cursor
from engpass.api.schema_fields import (
    DecimalString,
    JsonInteger,
    UtcDateTime,
    code,
    code_out,
    confirm_implausible,
    day,
    number,
    object_id,
    one_change_at_least,
    text,
)
from engpass.api.stages import stage_requirements, summary
from engpass.cycles.forms import (
    HOURS_BELOW,
    KPI_BELOW,
    LESSON_MAX,
    MINUTES_MAX,
    MONEY_BELOW,
    STEP_ROWS_MAX,
    TEXT_MAX,
    TITLE_MAX,
)
from engpass.cycles.models import Category, Decision, KpiDirection, Period, SolutionType, Stage

INDIRECT_COST_DERIVED = (
    "Read-only: the sum of the cycle's indirect cost items per week. "
    "Add, change or delete items at /api/v1/cycles/{cycle_id}/indirect-costs instead."
)


def _in_utc_range(value: datetime) -> None:
    # The first and the last day of the calendar cannot be moved to UTC from every offset.
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValidationError("Not a moment that can be expressed in UTC.") from None


class CycleListArgsSchema(PageArgsSchema):
    cursor = cursor("cycle")
    stage = code(Stage, metadata={"description": "Only cycles in this stage."})
    category = code(Category, metadata={"description": "Only cycles of this category."})
    owner_id = object_id(strict=False, metadata={"description": "Only cycles this member is responsible for."})
    status = fields.String(
        validate=validate.OneOf(["open", "decided"]), metadata={"description": "Open (not decided) or decided."}
    )
    updated_since = fields.AwareDateTime(
        default_timezone=UTC,
        validate=_in_utc_range,
        metadata={"description": "Only cycles changed at or after this moment (ISO 8601; UTC if no offset)."},
    )


class StepSchema(Schema):
    name = text(200, blank=False, required=True)
    role = text(120, load_default="")
    minutes = JsonInteger(load_default=0, validate=validate.Range(min=0, max=MINUTES_MAX))


class StepOutSchema(Schema):
    position = fields.Integer(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    minutes = fields.Integer(required=True)


class CycleCreateSchema(Schema):
    title = text(TITLE_MAX, blank=False, required=True)
    category = code(Category, required=True)
    why = text(TEXT_MAX, multiline=True, load_default="", metadata={"description": "Why this is the biggest lever."})
    owner_id = object_id(
        metadata={"description": "A member of the organization; default: the token's user if a member."}
    )
    sponsor_id = object_id(
        allow_none=True,
        metadata={
            "description": "The sponsor, an owner or admin of the organization, who decides at the end (else "
            "409); default: the token's user if an owner or admin, else none yet."
        },
    )
    previous_cycle_id = object_id(
        metadata={"description": "Start the next cycle after this decided one (\u201cNext bottleneck\u201d)."}
    )
    confirm_second_open = fields.Boolean(
        load_default=False,
        metadata={"description": "Work on a second bottleneck while another cycle is open (else 409)."},
    )


class CyclePatchSchema(Schema):
    """Any subset of a cycle's fields. Saving a later stage's data moves the cycle there when the
    method's rules allow it (409 otherwise, and nothing is saved) — exactly like the cycle's forms."""

    class Meta:
        json_schema: dict[str, Any] = {}  # filled in by one_change_at_least below

    # Bottleneck
    title = text(TITLE_MAX, blank=False)
    category = code(Category)
    why = text(TEXT_MAX, multiline=True)
    owner_id = object_id()
    sponsor_id = object_id(
        allow_none=True,
        metadata={"description": "An owner or admin of the organization (else 409); null: no sponsor yet."},
    )
    # Status quo (Ist-Zustand)
    hours_per_week = number(HOURS_BELOW, 2, allow_none=True)
    direct_cost_per_week = number(MONEY_BELOW, 2, allow_none=True)
    kpi_name = text(120, allow_none=True)
    kpi_unit = text(40, allow_none=True)
    kpi_direction = code(KpiDirection, allow_none=True)
    kpi_baseline = number(KPI_BELOW, 4, negative=True, allow_none=True)
    kpi_target = number(KPI_BELOW, 4, negative=True, allow_none=True)
    kpi_value_per_unit = number(
        MONEY_BELOW,
        2,
        allow_none=True,
        metadata={
            "description": "What one unit of the KPI is worth, in `currency` (e.g. an order's contribution margin); "
            "needs `kpi_period`."
        },
    )
    kpi_period = code(Period, allow_none=True, metadata={"description": "The span the KPI counts per."})
    steps = fields.List(
        fields.Nested(StepSchema),
        validate=validate.Length(max=STEP_ROWS_MAX),
        metadata={"description": "The process today, in order; replaces the steps."},
    )
    # Solution
    solution_what = text(TEXT_MAX, multiline=True, allow_none=True)
    solution_type = code(SolutionType, allow_none=True)
    expected_effect = text(TEXT_MAX, multiline=True, allow_none=True)
    effort_days = number(HOURS_BELOW, 2, allow_none=True)
    one_off_cost = number(MONEY_BELOW, 2, allow_none=True)
    running_cost_per_month = number(MONEY_BELOW, 2, allow_none=True)
    forecast_hours_per_week = number(
        HOURS_BELOW, 2, allow_none=True, metadata={"description": "Forecast: hours per week after the change."}
    )
    forecast_kpi = number(
        KPI_BELOW, 4, negative=True, allow_none=True, metadata={"description": "Forecast: the KPI's value after."}
    )
    forecast_cost_per_week = number(
        MONEY_BELOW, 2, allow_none=True, metadata={"description": "Forecast: cost per week after, in `currency`."}
    )
    # Prototype
    prototype_start = day(allow_none=True)
    prototype_target = day(allow_none=True)
    # Decision
    decision = code(Decision, allow_none=True)
    decision_reason = text(TEXT_MAX, multiline=True, allow_none=True)
    lessons_worked = text(LESSON_MAX, multiline=True, allow_none=True, metadata={"description": "What worked."})
    lessons_failed = text(LESSON_MAX, multiline=True, allow_none=True, metadata={"description": "What did not."})
    lessons_differently = text(
        LESSON_MAX, multiline=True, allow_none=True, metadata={"description": "What we would do differently."}
    )
    confirm_implausible = confirm_implausible()

    @pre_load
    def _not_the_derived_indirect_cost(self, data: Any, **_kwargs: Any) -> Any:
        # The weekly figure is the indirect cost items' sum (docs/business-case.md): written here, it would
        # be overwritten by the next change of an item, or count beside them twice.
        if isinstance(data, dict) and "indirect_cost_per_week" in data:
            raise ValidationError(
                {"indirect_cost_per_week": [INDIRECT_COST_DERIVED]},
            )
        return data

    @validates_schema
    def _something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.keys() - {"confirm_implausible"}:
            raise ValidationError("Send at least one field to change.")


one_change_at_least(CyclePatchSchema)


class StageChangeSchema(Schema):
    class Meta:
        json_schema = {"x-stage-requirements": stage_requirements()}

    stage = code(
        Stage,
        required=True,
        metadata={"description": "The stage to move to; going back is always allowed. " + summary()},
    )


class ComparisonSchema(Schema):
    forecast = DecimalString(required=True, allow_none=True)
    actual = DecimalString(required=True, allow_none=True, metadata={"description": "Measured."})
    deviation = DecimalString(required=True, allow_none=True, metadata={"description": "actual − forecast"})


class ForecastSchema(Schema):
    """What the team forecast at the solution step against what was measured; a value is null when missing."""

    stated = fields.Boolean(required=True, metadata={"description": "Whether any forecast was stated."})
    hours_per_week = fields.Nested(ComparisonSchema, required=True)
    kpi = fields.Nested(ComparisonSchema, required=True)
    savings_per_year = fields.Nested(ComparisonSchema, required=True)
    contribution_per_year = fields.Nested(ComparisonSchema, required=True)
    achieved_share_percent = DecimalString(
        required=True,
        allow_none=True,
        metadata={"description": "Measured ÷ forecast savings × 100; null unless the forecast savings are above 0."},
    )


class CycleSchema(Schema):
    class Meta:
        json_schema = {"x-stage-requirements": stage_requirements()}

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    category = code_out(Category, required=True)
    why = fields.String(required=True)
    stage = code_out(Stage, required=True)
    owner_id = fields.Integer(required=True, allow_none=True)
    owner_name = fields.String(required=True, allow_none=True)
    sponsor_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The owner or admin who decides at the end."}
    )
    sponsor_name = fields.String(required=True, allow_none=True)
    previous_cycle_id = fields.Integer(required=True, allow_none=True)
    focus_warning = fields.Boolean(required=True, metadata={"description": "Started while another was open."})
    measurement_count = fields.Integer(required=True)
    currency = fields.String(required=True, metadata={"description": "ISO 4217 code of every money field."})
    hours_per_week = DecimalString(required=True, allow_none=True)
    direct_cost_per_week = DecimalString(required=True, allow_none=True)
    indirect_cost_per_week = DecimalString(
        required=True,
        allow_none=True,
        metadata={"description": "Read-only: the indirect cost items' sum per year ÷ working weeks."},
    )
    indirect_cost_items = fields.List(
        fields.Nested(IndirectCostItemSchema),
        required=True,
        metadata={"description": "What the bottleneck costs besides, item by item, in their order."},
    )
    kpi_name = fields.String(required=True, allow_none=True)
    kpi_unit = fields.String(required=True, allow_none=True)
    kpi_direction = code_out(KpiDirection, required=True, allow_none=True)
    kpi_baseline = DecimalString(required=True, allow_none=True)
    kpi_target = DecimalString(required=True, allow_none=True)
    kpi_value_per_unit = DecimalString(required=True, allow_none=True)
    kpi_period = code_out(Period, required=True, allow_none=True)
    steps = fields.List(fields.Nested(StepOutSchema), required=True)
    solution_what = fields.String(required=True, allow_none=True)
    solution_type = code_out(SolutionType, required=True, allow_none=True)
    expected_effect = fields.String(required=True, allow_none=True)
    effort_days = DecimalString(required=True, allow_none=True)
    one_off_cost = DecimalString(required=True, allow_none=True)
    running_cost_per_month = DecimalString(required=True, allow_none=True)
    forecast_hours_per_week = DecimalString(required=True, allow_none=True)
    forecast_kpi = DecimalString(required=True, allow_none=True)
    forecast_cost_per_week = DecimalString(required=True, allow_none=True)
    additional_contribution_per_year = DecimalString(
        required=True,
        allow_none=True,
        metadata={
            "description": "The KPI's improvement × value per unit × its periods per year, in `currency`; beside "
            "the savings, never added to them (docs/business-case.md)."
        },
    )
    forecast = fields.Nested(
        ForecastSchema,
        required=True,
        metadata={"description": "The forecast against the latest measurement (docs/business-case.md)."},
    )
    prototype_start = fields.Date(required=True, allow_none=True)
    prototype_target = fields.Date(required=True, allow_none=True)
    decision = code_out(Decision, required=True, allow_none=True)
    decision_reason = fields.String(required=True, allow_none=True)
    lessons_worked = fields.String(required=True, allow_none=True)
    lessons_failed = fields.String(required=True, allow_none=True)
    lessons_differently = fields.String(required=True, allow_none=True)
    bottleneck_at = UtcDateTime(required=True, metadata={"description": "When the cycle entered each stage."})
    baseline_at = UtcDateTime(required=True, allow_none=True)
    solution_at = UtcDateTime(required=True, allow_none=True)
    prototype_at = UtcDateTime(required=True, allow_none=True)
    result_at = UtcDateTime(required=True, allow_none=True)
    decided_at = UtcDateTime(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    web_url = fields.String(required=True, metadata={"description": "The cycle's page in Engpass."})


class CyclePageSchema(PageSchema):
    items = fields.List(fields.Nested(CycleSchema), required=True)
