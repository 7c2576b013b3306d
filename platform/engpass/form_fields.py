"""Form fields every room shares: a required check that leaves unreadable input to its own message,
the one number field, which reads what people type through ``engpass.number_input``, and the
"Yes, these values are right" confirmation for figures that look like typing errors.

A number field is a text input with ``inputmode="decimal"``, never ``type=number``: a browser's number
field applies its own idea of the locale before the server sees anything (Chromium in German drops the
comma of "50,00" in some versions and sends "5000"), and refuses grouping such as "1.234,5".
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Field
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from engpass.formatting import input_number, number
from engpass.number_input import NumberInputError, parse_number

HOURS_BELOW = Decimal(10) ** 8


class Required:
    """Refuses an empty field, but leaves a field that could not be read to its own message."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Any, field: Field) -> None:
        if field.process_errors:
            raise StopValidation()
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            raise StopValidation(self.message)


class NumberField(Field):
    """A decimal in the user's notation, bounded by ``minimum`` ≤ value < ``below``."""

    widget = TextInput()

    def __init__(
        self,
        label: Any = None,
        validators: list[Any] | None = None,
        *,
        places: int = 2,
        minimum: Decimal | None = Decimal(0),
        below: Decimal = HOURS_BELOW,
        **kwargs: Any,
    ) -> None:
        render_kw = {"inputmode": "numeric" if places == 0 else "decimal", "autocomplete": "off"}
        render_kw.update(kwargs.pop("render_kw", None) or {})
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.places = places
        self.minimum = minimum
        self.below = below

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = parse_number(str(valuelist[0]), get_locale() or Locale("de"))
        except NumberInputError as refused:
            self.data = None
            if self.places == 0 and refused.plain:
                raise ValueError(_l("Please enter a whole number, e.g. 30.")) from None
            raise ValueError(refused.message) from None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return input_number(self.data)

    def pre_validate(self, form: Any) -> None:
        if self.process_errors or self.data is None:
            return
        largest = self.below - Decimal(1).scaleb(-self.places)
        low = self.minimum if self.minimum is not None else -largest
        if self.data > largest:
            raise StopValidation(_l("This number is too large (at most %(max)s).", max=number(largest)))
        if self.data < low:
            if low == 0:
                raise StopValidation(_l("Please enter 0 or more."))
            raise StopValidation(_l("This number is too small (at least %(min)s).", min=number(low)))
        # Decimal() too: a form sent empty keeps the object's value, an int for a whole-number column.
        value = Decimal(self.data)
        if self.places == 0:
            if value != value.to_integral_value():
                # 4,5 working weeks or 30,5 minutes: rounding would be a guess at what was meant.
                raise StopValidation(_l("Please enter a whole number, e.g. 30."))
            self.data = int(value)
            return
        self.data = value.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_HALF_UP)


class Doubt(Protocol):
    field: str
    message: str


class ConfirmDoubts:
    """Mixed into a form whose values may be asked about before they are saved (``cycles.plausibility``)."""

    confirm_implausible = BooleanField(_l("Yes, these values are right."))
    doubts: Sequence[Doubt] = ()


def ask_about(form: Any, doubts: Sequence[Doubt]) -> bool:
    """Whether the form must be shown again with ``doubts`` next to their fields: when there are any and
    the user has not confirmed them yet. What was typed stays in the fields either way."""
    if not doubts or form.confirm_implausible.data:
        return False
    form.doubts = doubts
    for doubt in doubts:
        field = form[doubt.field]
        field.warnings = [*getattr(field, "warnings", []), doubt.message]
    return True
