"""Which column holds what, and one row's cells read as a measurement's values with the row's errors.

Numbers typed as text are read in the user's locale by ``engpass.number_input`` (``50,00`` is fifty in
German; ``1.234`` is refused as ambiguous, never guessed), bounded like the measurement form's fields.
A workbook's number cells are numbers already. Dates are ``06.12.2026``, ``2026-12-06``, a workbook's
date cell or an Excel day number (``46362``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel import Locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engpass.cycles.forms import EARLIEST_DATE, HOURS_BELOW, KPI_BELOW, LATEST_DATE, MONEY_BELOW, NOTE_MAX
from engpass.formatting import number
from engpass.imports.parsing import Cell
from engpass.number_input import NumberInputError, parse_number

FIELDS = ("measured_on", "kpi_value", "hours_per_week", "cost_per_week", "note")
REQUIRED = ("measured_on", "kpi_value")
# As the measurement form calls them.
FIELD_LABELS = {
    "measured_on": _l("Date"),
    "kpi_value": _l("KPI value"),
    "hours_per_week": _l("Hours per week"),
    "cost_per_week": _l("Cost per week"),
    "note": _l("Note"),
}
EXCEL_EPOCH = date(1899, 12, 30)
DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d")

# Header words, folded to lower-case letters and digits, that name each field (German first).
_SYNONYMS = {
    "measured_on": ("datum", "messdatum", "gemessenam", "tag", "date", "day", "measuredon"),
    "kpi_value": ("wert", "kpi", "kpiwert", "messwert", "kennzahl", "ergebnis", "value", "kpivalue"),
    "hours_per_week": ("stundenwoche", "stundenprowoche", "stunden", "std", "hoursperweek", "hoursweek", "hours"),
    "cost_per_week": ("kostenwoche", "kostenprowoche", "kosten", "costperweek", "costweek", "cost", "costs"),
    "note": ("notiz", "bemerkung", "kommentar", "anmerkung", "note", "notes", "comment"),
}


@dataclass(frozen=True)
class Bounds:
    places: int
    minimum: Decimal | None
    below: Decimal


_BOUNDS = {
    "kpi_value": Bounds(4, None, KPI_BELOW),
    "hours_per_week": Bounds(2, Decimal(0), HOURS_BELOW),
    "cost_per_week": Bounds(2, Decimal(0), MONEY_BELOW),
}


@dataclass
class Row:
    """One data row: its line in the file (the header is line 1), its values and what is wrong with it."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _fold(header: str) -> str:
    return re.sub(r"[^0-9a-zäöüß]", "", header.lower())


def guess_mapping(headers: list[str]) -> dict[str, int | None]:
    """Each field's column by its header, German or English; a column is used for one field at most."""
    folded = [_fold(header) for header in headers]
    mapping: dict[str, int | None] = {}
    taken: set[int] = set()
    for name in FIELDS:
        mapping[name] = None
        for synonym in _SYNONYMS[name]:
            index = next((i for i, text in enumerate(folded) if text == synonym and i not in taken), None)
            if index is not None:
                mapping[name] = index
                taken.add(index)
                break
    return mapping


def _text(cell: Cell) -> str:
    return "" if cell is None else str(cell).strip()


def _day(cell: Cell) -> date:
    if isinstance(cell, datetime):
        day = cell.date()
    elif isinstance(cell, date):
        day = cell
    elif isinstance(cell, int | float) and not isinstance(cell, bool) and float(cell).is_integer():
        day = EXCEL_EPOCH + timedelta(days=int(cell))
    else:
        text = _text(cell)
        day = None
        if text.isdigit() and len(text) == 5:
            day = EXCEL_EPOCH + timedelta(days=int(text))
        for format_ in DATE_FORMATS:
            try:
                day = datetime.strptime(text, format_).date()
                break
            except ValueError:
                continue
        if day is None:
            raise ValueError(_("“%(text)s” is not a date. Please write it like 06.12.2026.", text=text))
    if not (EARLIEST_DATE <= day <= LATEST_DATE):
        raise ValueError(_("Please enter a date between 1990 and 2100."))
    return day


def _number(cell: Cell, bounds: Bounds, locale: Locale) -> Decimal:
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        try:
            value = Decimal(str(cell))
        except InvalidOperation:
            raise ValueError(_("Please enter a number, e.g. %(example)s.", example=number(Decimal("12.5")))) from None
    else:
        try:
            value = parse_number(_text(cell), locale)
        except NumberInputError as refused:
            raise ValueError(refused.message) from None
    largest = bounds.below - Decimal(1).scaleb(-bounds.places)
    low = bounds.minimum if bounds.minimum is not None else -largest
    if value > largest:
        raise ValueError(_("This number is too large (at most %(max)s).", max=number(largest)))
    if value < low:
        if low == 0:
            raise ValueError(_("Please enter 0 or more."))
        raise ValueError(_("This number is too small (at least %(min)s).", min=number(low)))
    return value.quantize(Decimal(1).scaleb(-bounds.places), rounding=ROUND_HALF_UP)


def read_row(line: int, cells: list[Cell], mapping: dict[str, int | None], locale: Locale) -> Row:
    """The row's values for the mapped fields; a field that cannot be read is an error naming it."""
    row = Row(line)
    for name in FIELDS:
        index = mapping.get(name)
        cell = cells[index] if index is not None and index < len(cells) else None
        if _text(cell) == "":
            if name in REQUIRED:
                row.errors.append(_("%(field)s: missing.", field=FIELD_LABELS[name]))
            else:
                row.values[name] = "" if name == "note" else None
            continue
        try:
            if name == "measured_on":
                row.values[name] = _day(cell)
            elif name == "note":
                text = _text(cell)
                if len(text) > NOTE_MAX:
                    raise ValueError(_("At most %(max)d characters.", max=NOTE_MAX))
                row.values[name] = text
            else:
                row.values[name] = _number(cell, _BOUNDS[name], locale)
        except ValueError as refused:
            row.errors.append(_("%(field)s: %(problem)s", field=FIELD_LABELS[name], problem=str(refused)))
    return row
