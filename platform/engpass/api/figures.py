"""The API's documents of computed figures: a cycle's business case, the maturity, the dashboard and the
weekly history. Read-only documents, apart from the history's query arguments; the field types and
conventions are those of ``api/schema_fields.py``."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from engpass.api.cycle_schemas import ForecastSchema
from engpass.api.rollout_schemas import AtScaleSchema
from engpass.api.schema_fields import DecimalString, UtcDateTime, code_out
from engpass.cycles.models import Stage
from engpass.radar.models import Pattern, RadarRule

HISTORY_WEEKS_MAX = 520

# --- figures -------------------------------------------------------------------------------------


class StatusQuoCostSchema(Schema):
    """What the bottleneck costs a year as it is; a part is null when the status quo lacks its number."""

    per_year = DecimalString(required=True, metadata={"description": "The sum of the parts, in `currency`."})
    hours = DecimalString(
        required=True, allow_none=True, metadata={"description": "hours per week × hourly rate × working weeks"}
    )
    direct_cost = DecimalString(
        required=True, allow_none=True, metadata={"description": "direct cost per week × working weeks"}
    )
    indirect_cost = DecimalString(
        required=True,
        allow_none=True,
        metadata={"description": "The sum of the indirect cost items' costs per year; null without items."},
    )
    guessed_cost = DecimalString(
        required=True, metadata={"description": "What of `per_year` rests on indirect cost items that are a guess."}
    )
    guessed_share = DecimalString(
        required=True,
        allow_none=True,
        metadata={"description": "`guessed_cost` in percent of `per_year`, one decimal; null when that is 0."},
    )
    guessed_item_ids = fields.List(
        fields.Integer(), required=True, metadata={"description": "The indirect cost items that are a guess."}
    )


class BusinessCaseSchema(Schema):
    """docs/business-case.md: every figure is null when the numbers it needs are missing."""

    cycle_id = fields.Integer(required=True)
    currency = fields.String(required=True)
    hourly_rate = DecimalString(required=True, metadata={"description": "The organization's rate it is valued at."})
    working_weeks_per_year = fields.Integer(
        required=True, metadata={"description": "The organization's setting that makes weekly figures yearly."}
    )
    status_quo_cost = fields.Nested(
        StatusQuoCostSchema,
        required=True,
        allow_none=True,
        metadata={"description": "Null until the status quo has hours or a cost per week."},
    )
    measured = fields.Boolean(required=True, metadata={"description": "Whether a measurement exists."})
    hours_saved_per_week = DecimalString(required=True, allow_none=True)
    cost_saved_per_week = DecimalString(required=True)
    running_cost_per_year = DecimalString(required=True)
    savings_per_year = DecimalString(
        required=True, allow_none=True, metadata={"description": "Net of the running cost, in `currency`."}
    )
    effort_cost = DecimalString(required=True)
    payback_weeks = DecimalString(required=True, allow_none=True)
    kpi_current = DecimalString(required=True, allow_none=True)
    kpi_change_percent = DecimalString(required=True, allow_none=True)
    kpi_improved = fields.Boolean(required=True, allow_none=True)
    target_reached_percent = DecimalString(required=True, allow_none=True)
    additional_contribution_per_year = DecimalString(
        required=True,
        allow_none=True,
        metadata={"description": "Beside `savings_per_year`, never added to it; null without the KPI's value."},
    )
    forecast = fields.Nested(ForecastSchema, required=True)
    at_scale = fields.Nested(
        AtScaleSchema,
        required=True,
        allow_none=True,
        metadata={"description": "A cycle decided “scale” with its rollout opened: the effect at scale beside this."},
    )


class ForecastAccuracySchema(Schema):
    percent = DecimalString(
        required=True,
        allow_none=True,
        metadata={
            "description": "100 − the mean absolute percentage error of the measured savings against the forecast "
            "ones, floored at 0 (docs/business-case.md); null without a cycle that has both."
        },
    )
    cycles = fields.Integer(required=True, metadata={"description": "How many cycles it rests on."})


class ReasonSchema(Schema):
    code = fields.String(required=True)
    params = fields.Dict(keys=fields.String(), required=True)
    text = fields.String(required=True, metadata={"description": "In the request's language."})


class MaturitySchema(Schema):
    level = fields.Integer(required=True, metadata={"description": "1 (getting started) to 5 (continuous)."})
    name = fields.String(required=True)
    scores = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    missing = fields.List(
        fields.Nested(ReasonSchema), required=True, metadata={"description": "What the next level needs."}
    )


class WeekSchema(Schema):
    week_start = fields.Date(required=True, metadata={"description": "The Monday of the week."})
    level = fields.Integer(required=True)
    level_name = fields.String(required=True)
    scores = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    proven_cycles = fields.Integer(required=True)
    proven_share = fields.Integer(required=True, metadata={"description": "Percent of decided cycles proven."})
    hours_saved_per_week = DecimalString(required=True)
    savings_per_year = DecimalString(required=True)
    currency = fields.String(required=True)
    cycles_per_stage = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    median_lead_time_days = DecimalString(required=True, allow_none=True)
    median_prototype_days = DecimalString(required=True, allow_none=True)
    computed_at = UtcDateTime(required=True)


class OpenCycleSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    stage = code_out(Stage, required=True)


class AttentionSchema(Schema):
    rule = fields.String(required=True, metadata={"description": "The reminder rule (docs/reminders.md)."})
    cycle_id = fields.Integer(required=True)
    cycle_title = fields.String(required=True)
    since = fields.Date(required=True)


class DashboardSchema(Schema):
    currency = fields.String(required=True)
    pending = fields.Boolean(
        required=True, metadata={"description": "The figures are being recomputed after recent changes."}
    )
    maturity = fields.Nested(MaturitySchema, required=True, allow_none=True)
    latest_week = fields.Nested(WeekSchema, required=True, allow_none=True)
    open_cycles = fields.List(fields.Nested(OpenCycleSchema), required=True)
    attention = fields.List(fields.Nested(AttentionSchema), required=True)
    forecast_accuracy = fields.Nested(
        ForecastAccuracySchema,
        required=True,
        allow_none=True,
        metadata={"description": "The organization's forecast accuracy; null until the figures are computed."},
    )


class RadarFindingSchema(Schema):
    """One warning sign of the anti-pattern radar (docs/radar.md), in words in the request's language."""

    pattern = code_out(Pattern, required=True)
    pattern_name = fields.String(required=True)
    rule = code_out(RadarRule, required=True)
    rule_text = fields.String(required=True, metadata={"description": "The rule and its threshold in words."})
    cycle_id = fields.Integer(required=True, allow_none=True, metadata={"description": "Null: organization-wide."})
    cycle_title = fields.String(required=True, allow_none=True)
    person = fields.String(
        required=True, allow_none=True, metadata={"description": "Whom an organization-wide finding is about."}
    )
    figures = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        required=True,
        metadata={"description": "What triggered it: amounts as decimal strings, counts and days as integers."},
    )
    text = fields.String(required=True, metadata={"description": "The figures in a sentence."})
    next_step = fields.String(required=True)
    opened_on = fields.Date(required=True, metadata={"description": "The day the workers first found it."})


class RadarSchema(Schema):
    currency = fields.String(required=True)
    pending = fields.Boolean(
        required=True, metadata={"description": "The findings are being recomputed after recent changes."}
    )
    thresholds = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Every threshold of the rules, by its name in docs/radar.md."},
    )
    findings = fields.List(fields.Nested(RadarFindingSchema), required=True)


class HistoryArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    weeks = fields.Integer(
        load_default=52,
        validate=validate.Range(min=1, max=HISTORY_WEEKS_MAX),
        metadata={"description": "How many of the latest weeks."},
    )


class HistorySchema(Schema):
    weeks = fields.List(fields.Nested(WeekSchema), required=True, metadata={"description": "Oldest first."})
