"""The field types of the API's request and response documents (marshmallow schemas): they validate what
comes in, shape what goes out, and are the source of the OpenAPI document (apispec).

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

from marshmallow import Schema, ValidationError, fields, validate

from engpass import single_line
from engpass.candidates.models import CandidateStatus, DataAvailable, Effort
from engpass.cycles.forms import EARLIEST_DATE, LATEST_DATE
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
from engpass.number_input import NumberInputError, parse_number
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


def _no_control_characters(value: str) -> None:
    # NUL cannot be stored in PostgreSQL text, and a lone surrogate cannot be encoded at all.
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValidationError("Contains characters that cannot be stored.")


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


def confirm_implausible() -> fields.Boolean:
    return fields.Boolean(
        metadata={
            "description": "The figures sent are right although they look implausible (docs/business-case.md): "
            "an hourly rate above 500, more than 168 hours or a cost above 1,000,000 per week, a cost equal to "
            "hours × rate. Without it such figures answer 422 naming the fields."
        }
    )


def one_change_at_least(schema: type[Schema]) -> None:
    """Say in the document what a patch schema's ``_something`` checks: a field to change besides the
    confirmation."""
    changes = [name for name in schema._declared_fields if name != "confirm_implausible"]
    schema.Meta.json_schema["anyOf"] = [{"required": [name]} for name in changes]
