"""The API's request and response documents, as marshmallow schemas: they validate what comes in,
shape what goes out, and are the source of the OpenAPI document (apispec).

Input takes the stable codes of the cycle models (categories, stages, …) and decimals as JSON
numbers or plain ``.``-decimal strings (read by ``engpass.number_input`` without a locale: no grouping,
no exponent); output gives decimals as strings (exact, never a binary float), money next to the
organization's ``currency``, days as ``YYYY-MM-DD`` and moments as ISO 8601 in UTC.
The bounds are the web forms' (``cycles/forms.py``): what the UI refuses, the API refuses.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from engpass import single_line
from engpass.api.stages import stage_requirements, summary
from engpass.candidates.forms import REASON_MAX, WHO_MAX
from engpass.candidates.models import CandidateStatus, DataAvailable, Effort
from engpass.cycles.forms import (
    EARLIEST_DATE,
    HOURS_BELOW,
    KPI_BELOW,
    LATEST_DATE,
    LESSON_MAX,
    MINUTES_MAX,
    MONEY_BELOW,
    NOTE_MAX,
    STEP_ROWS_MAX,
    TEXT_MAX,
    TITLE_MAX,
)
from engpass.cycles.indirect_forms import LABEL_MAX, PEOPLE_MAX, SOURCE_NOTE_MAX
from engpass.cycles.models import (
    Category,
    CostSource,
    Decision,
    IndirectKind,
    KpiDirection,
    Period,
    SolutionType,
    Stage,
)
from engpass.cycles.rules import NOT_BLANK
from engpass.i18n import LANGUAGES
from engpass.number_input import NumberInputError, parse_number
from engpass.organizations.forms import CURRENCIES, HOURLY_RATE_BELOW, WORKING_WEEKS_MAX, timezone_choices
from engpass.rollouts.models import Reach
from engpass.routing import ID_MAX
from engpass.webhooks.events import EventType
from engpass.webhooks.models import EndpointKind

# The models' enums, each one named schema of the document that every field of its codes refers to
# (api/extension.py): a client generator makes one type of each, not one per field.
CODES = (
    Category,
    Stage,
    KpiDirection,
    Period,
    SolutionType,
    Decision,
    IndirectKind,
    CostSource,
    Effort,
    DataAvailable,
    CandidateStatus,
    Reach,
    EventType,
    EndpointKind,
)

PAGE_LIMIT_DEFAULT = 50
PAGE_LIMIT_MAX = 200
CURSOR_MAX = 200
HISTORY_WEEKS_MAX = 520
INDIRECT_COST_DERIVED = (
    "Read-only: the sum of the cycle's indirect cost items per week. "
    "Add, change or delete items at /api/v1/cycles/{cycle_id}/indirect-costs instead."
)


def _no_control_characters(value: str) -> None:
    # NUL cannot be stored in PostgreSQL text, and a lone surrogate cannot be encoded at all.
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValidationError("Contains characters that cannot be stored.")


def _in_utc_range(value: datetime) -> None:
    # The first and the last day of the calendar cannot be moved to UTC from every offset.
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValidationError("Not a moment that can be expressed in UTC.") from None


def text(limit: int, *, blank: bool = True, multiline: bool = False, **kwargs: Any) -> fields.String:
    """A string in a request; one line unless ``multiline`` (names and titles end up in mail subjects)."""
    checks: list[Any] = [validate.Length(max=limit), _no_control_characters]
    if not blank:
        checks.append(_not_blank)
    if not multiline:
        checks.append(single_line.validate)
        documented = single_line.pattern(blank=blank, blank_class=NOT_BLANK[2:-1])
    elif not blank:
        documented = NOT_BLANK
    else:
        return fields.String(validate=checks, **kwargs)
    # The document says what the checks refuse, so a client (and Schemathesis) never sends what it allows.
    kwargs["metadata"] = {"pattern": documented, **kwargs.get("metadata", {})}
    return fields.String(validate=checks, **kwargs)


def _not_blank(value: str) -> None:
    # A search, as JSON Schema's pattern is: one character that is not white space anywhere.
    if re.search(NOT_BLANK, value) is None:
        raise ValidationError("Must not be blank.")


def code(enum: type[Enum], **kwargs: Any) -> fields.Enum:
    """One of an enum's stable codes (the models' values), read into the enum."""
    return fields.Enum(enum, by_value=fields.String, **kwargs)


class CodeOut(fields.String):
    """An enum's code in a response; the model may hold the member or its plain string."""

    def __init__(self, enum: type[Enum], **kwargs: Any) -> None:
        super().__init__(validate=validate.OneOf([member.value for member in enum]), **kwargs)
        self.enum = enum


def code_out(enum: type[Enum], **kwargs: Any) -> CodeOut:
    return CodeOut(enum, **kwargs)


class PlainDecimal(fields.Decimal):
    """A JSON number, or a string in the API's one notation (``"-1234.5"``): the parser the forms use, with
    no locale, so ``"1,234"`` or ``"1e3"`` is refused rather than read one way or the other."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, str):
            try:
                value = parse_number(value, None)
            except NumberInputError as refused:
                raise ValidationError(refused.message) from None
        return super()._deserialize(value, attr, data, **kwargs)


def number(below: Decimal, places: int, *, negative: bool = False, **kwargs: Any) -> PlainDecimal:
    """A decimal in the column's range, rounded half up to ``places`` like the forms (JSON number or
    numeric string): ``0 ≤ value < below``, or ``-below < value < below`` for ``negative``.

    The bounds are checked here and documented as plain JSON numbers: apispec would write a Range
    validator's bounds through the Decimal field, as strings, which no JSON Schema allows.
    """
    bound = int(below)

    def within(value: Decimal) -> None:
        if value >= bound or (value <= -bound if negative else value < 0):
            low = f"greater than {-bound}" if negative else "at least 0"
            raise ValidationError(f"Must be {low} and less than {bound}.")

    documented = {"exclusiveMinimum": -bound} if negative else {"minimum": 0}
    documented["exclusiveMaximum"] = bound
    metadata = {**documented, **kwargs.pop("metadata", {})}
    return PlainDecimal(places=places, rounding=ROUND_HALF_UP, validate=within, metadata=metadata, **kwargs)


# A day in the forms' years (1990 to 2100): the pattern documents what the Range checks.
DAY_PATTERN = r"^(199[0-9]|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def day(**kwargs: Any) -> fields.Date:
    return fields.Date(
        validate=validate.Range(min=EARLIEST_DATE, max=LATEST_DATE), metadata={"pattern": DAY_PATTERN}, **kwargs
    )


class DecimalString(fields.Decimal):
    """A decimal written as a string (``"1234.50"``): exact, unlike a JSON number read as a float."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(as_string=True, **kwargs)


class UtcDateTime(fields.DateTime):
    """A moment in ISO 8601 with its offset; stored moments are UTC (SQLite gives them back naive)."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class JsonInteger(fields.Integer):
    """An integer in a body, as JSON Schema counts them: a JSON number without a fraction, ``3.0`` too;
    never a string."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)


def object_id(*, strict: bool = True, **kwargs: Any) -> fields.Integer:
    """An id in the column's range; ``strict`` refuses strings (in a body; a query has only strings)."""
    kind = JsonInteger if strict else fields.Integer
    return kind(validate=validate.Range(min=1, max=ID_MAX), **kwargs)


# --- problems (RFC 9457) -------------------------------------------------------------------------


class ProblemFieldSchema(Schema):
    field = fields.String(required=True, metadata={"description": "The field, dotted for nested ones."})
    in_ = fields.String(
        data_key="in",
        required=True,
        validate=validate.OneOf(["body", "query"]),
        metadata={"description": "Where the field was sent."},
    )
    pointer = fields.String(metadata={"description": "JSON pointer into the body (body fields only)."})
    line = fields.Integer(metadata={"description": "The line of an imported file the message is about."})
    message = fields.String(required=True)


class ProblemSchema(Schema):
    type = fields.String(required=True, metadata={"description": "The problem's explanation on the docs page."})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True, metadata={"description": "This occurrence, in the request's language."})
    instance = fields.String(required=True, metadata={"description": "The path of the request."})
    errors = fields.List(fields.Nested(ProblemFieldSchema), metadata={"description": "One entry per field."})


# --- paging --------------------------------------------------------------------------------------


# What api/paging.py hands out: base64url without padding.
CURSOR_PATTERN = f"^[A-Za-z0-9_-]{{1,{CURSOR_MAX}}}$"


def cursor(kind: str) -> fields.String:
    """A list's cursor: its format names the list whose ``next_cursor`` it must be (another is a 422)."""
    return fields.String(
        validate=validate.Regexp(CURSOR_PATTERN),
        metadata={
            "format": f"{kind}-cursor",
            "pattern": CURSOR_PATTERN,
            "description": f"The `next_cursor` of the previous page of {kind}s, as it was handed out.",
        },
    )


class PageArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(
        load_default=PAGE_LIMIT_DEFAULT,
        validate=validate.Range(min=1, max=PAGE_LIMIT_MAX),
        metadata={"description": f"Items per page (at most {PAGE_LIMIT_MAX})."},
    )


class MeasurementListArgsSchema(PageArgsSchema):
    cursor = cursor("measurement")


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


class PageSchema(Schema):
    limit = fields.Integer(required=True)
    next_cursor = fields.String(required=True, allow_none=True, metadata={"description": "null on the last page."})
    next = fields.String(required=True, allow_none=True, metadata={"description": "The next page's URL."})


# --- cycles --------------------------------------------------------------------------------------


class StepSchema(Schema):
    name = text(200, blank=False, required=True)
    role = text(120, load_default="")
    minutes = JsonInteger(load_default=0, validate=validate.Range(min=0, max=MINUTES_MAX))


class StepOutSchema(Schema):
    position = fields.Integer(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    minutes = fields.Integer(required=True)


def confirm_implausible() -> fields.Boolean:
    return fields.Boolean(
        metadata={
            "description": "The figures sent are right although they look implausible (docs/business-case.md): "
            "an hourly rate above 500, more than 168 hours or a cost above 1,000,000 per week, a cost equal to "
            "hours × rate. Without it such figures answer 422 naming the fields."
        }
    )


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
        json_schema: dict[str, Any] = {}  # filled in by _one_change_at_least below

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


# --- measurements --------------------------------------------------------------------------------


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


# --- bottleneck candidates -----------------------------------------------------------------------


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
        json_schema: dict[str, Any] = {}  # filled in by _one_change_at_least below

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


# --- indirect cost items ------------------------------------------------------------------------


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
        json_schema: dict[str, Any] = {}  # filled in by _one_change_at_least below

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


# --- the organization ----------------------------------------------------------------------------


class OrganizationSchema(Schema):
    """The organization's settings that the business case depends on."""

    name = fields.String(required=True)
    slug = fields.String(required=True, metadata={"description": "Its part of the web app's addresses."})
    locale = fields.String(required=True, metadata={"description": "The organization's language (`de`, `en`)."})
    timezone = fields.String(required=True, metadata={"description": "Whose calendar says what today is."})
    currency = fields.String(required=True, metadata={"description": "ISO 4217 code of every money field."})
    default_hourly_rate = DecimalString(
        required=True, metadata={"description": "What an hour costs: the business case values saved hours at it."}
    )
    working_weeks_per_year = fields.Integer(
        required=True,
        metadata={"description": "Turns every weekly figure into a yearly one: 52, or e.g. 46 without holidays."},
    )


class OrganizationPatchSchema(Schema):
    """Any subset of the settings. A new hourly rate revalues every week of the trend, as in the web."""

    class Meta:
        json_schema: dict[str, Any] = {}  # filled in by _one_change_at_least below

    name = text(120, blank=False)
    locale = fields.String(validate=validate.OneOf(list(LANGUAGES)))
    timezone = fields.String(
        validate=validate.OneOf(timezone_choices(), error="Not a time zone of the IANA database, e.g. Europe/Berlin."),
        metadata={"description": "IANA name, e.g. Europe/Berlin."},
    )
    currency = fields.String(validate=validate.OneOf(CURRENCIES))
    default_hourly_rate = number(HOURLY_RATE_BELOW, 2)
    working_weeks_per_year = JsonInteger(validate=validate.Range(min=1, max=WORKING_WEEKS_MAX))
    confirm_implausible = confirm_implausible()

    @validates_schema
    def _something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.keys() - {"confirm_implausible"}:
            raise ValidationError("Send at least one field to change.")


def _one_change_at_least(schema: type[Schema]) -> None:
    """Say in the document what ``_something`` checks: a field to change besides the confirmation."""
    changes = [name for name in schema._declared_fields if name != "confirm_implausible"]
    schema.Meta.json_schema["anyOf"] = [{"required": [name]} for name in changes]


_one_change_at_least(CyclePatchSchema)
_one_change_at_least(OrganizationPatchSchema)
_one_change_at_least(CandidatePatchSchema)
_one_change_at_least(IndirectCostItemPatchSchema)
