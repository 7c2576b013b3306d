"""The form of one indirect cost item: its fields and their labels follow the item's kind.

The kind is chosen before the form (a link per kind, no JavaScript) and travels with it as a hidden field;
only the numbers the kind's formula uses are shown and required. Numbers are read in the user's notation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField
from wtforms.validators import AnyOf, StopValidation

# The cycle forms' own builders: a trimmed single-line text with its length, and choices from labels.
from engpass.cycles.forms import MONEY_BELOW, _choices, _text
from engpass.cycles.indirect_costs import (
    PERIOD_LABELS,
    SOURCE_LABELS,
    USES_PEOPLE,
    USES_QUANTITY,
    USES_UNIT_VALUE,
)
from engpass.cycles.models import IndirectKind
from engpass.form_fields import HOURS_BELOW, NumberField, Required
from engpass.single_line import SingleLine

LABEL_MAX = 200
SOURCE_NOTE_MAX = 300
PEOPLE_MAX = 100_000

QUANTITY_LABELS = {
    IndirectKind.errors: _l("Number of errors"),
    IndirectKind.lost_orders: _l("Number of lost orders"),
    IndirectKind.waiting: _l("Hours waiting per person"),
    IndirectKind.penalties: _l("Number of penalties"),
}
UNIT_VALUE_LABELS = {
    IndirectKind.errors: _l("Cost per error"),
    IndirectKind.lost_orders: _l("Contribution margin per order"),
    IndirectKind.penalties: _l("Amount per penalty"),
    IndirectKind.other: _l("Amount"),
}
KIND_HINTS = {
    IndirectKind.errors: _l("Rework and credit notes: how many errors, and what one costs."),
    IndirectKind.lost_orders: _l("Orders lost to the bottleneck, each at its contribution margin."),
    IndirectKind.waiting: _l("People waiting for the process, valued at the organization's hourly rate."),
    IndirectKind.penalties: _l("Contractual penalties or fines: how many, and the amount of one."),
    IndirectKind.other: _l("Any other amount the bottleneck costs besides the hours and the direct cost."),
}
SOURCE_HINTS = {
    "measured": _l("Counted or taken from the books."),
    "estimated": _l("Worked out from what is known."),
    "guess": _l("Someone's guess: the business case shows how much rests on it."),
}


def kind_or_default(value: Any, default: IndirectKind = IndirectKind.errors) -> IndirectKind:
    """The kind a request names, or ``default`` for none or an unknown one."""
    try:
        return IndirectKind(str(value))
    except ValueError:
        return default


class IndirectCostForm(FlaskForm):
    kind = HiddenField(
        _l("Kind"),
        validators=[
            SingleLine(),
            AnyOf([kind.value for kind in IndirectKind], _l("Please choose one of the kinds of indirect cost.")),
        ],
    )
    label = _text(_l("What it is"), LABEL_MAX, render_kw={"placeholder": _l("e.g. Rework on quotes")})
    quantity = NumberField(_l("Quantity"), below=HOURS_BELOW)
    unit_value = NumberField(_l("Amount"), below=MONEY_BELOW)
    people_affected = NumberField(_l("People affected"), places=0, minimum=Decimal(1), below=Decimal(PEOPLE_MAX + 1))
    period = RadioField(
        _l("Counted per"),
        choices=_choices(PERIOD_LABELS),
        validators=[Required(_l("Please choose whether the number counts per week, month or year."))],
        invalid_choice_message=_l("Please choose whether the number counts per week, month or year."),
    )
    source = RadioField(
        _l("Where the number comes from"),
        choices=_choices(SOURCE_LABELS),
        validators=[Required(_l("Please say whether the number is measured, estimated or a guess."))],
        invalid_choice_message=_l("Please say whether the number is measured, estimated or a guess."),
    )
    source_note = _text(
        _l("Source, in a few words"),
        SOURCE_NOTE_MAX,
        render_kw={"placeholder": _l("e.g. credit notes 2026 in the ERP")},
    )

    def __init__(self, *args: Any, kind: IndirectKind = IndirectKind.errors, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chosen_kind = kind
        if not self.kind.raw_data:
            # Nothing posted: a link chose the kind (a new item, or an item given another kind).
            self.kind.data = kind.value
        self.quantity.label.text = str(QUANTITY_LABELS.get(kind, _l("Quantity")))
        self.unit_value.label.text = str(UNIT_VALUE_LABELS.get(kind, _l("Amount")))
        self.hint = KIND_HINTS[kind]
        self.source_hints = SOURCE_HINTS

    def shows(self, name: str) -> bool:
        """Whether the chosen kind's formula uses this field."""
        uses = {"quantity": USES_QUANTITY, "unit_value": USES_UNIT_VALUE, "people_affected": USES_PEOPLE}
        return self.chosen_kind in uses[name] if name in uses else True

    def _needed(self, field: Field, message: Any) -> None:
        if self.shows(field.name) and not field.process_errors and field.data is None:
            raise StopValidation(message)

    def validate_quantity(self, field: Field) -> None:
        self._needed(field, _l("Please enter how many (or how many hours)."))

    def validate_unit_value(self, field: Field) -> None:
        self._needed(field, _l("Please enter the amount."))

    def validate_people_affected(self, field: Field) -> None:
        self._needed(field, _l("Please enter how many people wait."))
