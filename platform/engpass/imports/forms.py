"""The import's two forms: the file, and which column holds what (with the choice to skip invalid rows)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField

from engpass.imports.rows import FIELD_LABELS, FIELDS


class UploadForm(FlaskForm):
    file = FileField(
        _l("CSV file or Excel workbook (.xlsx)"),
        [FileRequired(_l("Please choose a file."))],
        render_kw={
            "accept": ".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        },
    )


class MappingForm(FlaskForm):
    measured_on = SelectField(FIELD_LABELS["measured_on"])
    kpi_value = SelectField(FIELD_LABELS["kpi_value"])
    hours_per_week = SelectField(FIELD_LABELS["hours_per_week"])
    cost_per_week = SelectField(FIELD_LABELS["cost_per_week"])
    note = SelectField(FIELD_LABELS["note"])
    skip_invalid = BooleanField(_l("Import the valid rows and leave out the rows with errors"))

    def __init__(
        self,
        *args: Any,
        headers: list[str] | None = None,
        guessed: dict[str, int | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        guessed = guessed or {}
        columns = [(str(i), header) for i, header in enumerate(headers or [])]
        choices = [("", str(_l("— not in the file —"))), *columns]
        for name in FIELDS:
            select = self[name]
            select.choices = choices
            if not select.raw_data:
                select.data = "" if guessed.get(name) is None else str(guessed[name])

    def mapping(self) -> dict[str, int | None]:
        """The chosen column per field; a value the choices do not hold counts as not chosen."""
        result: dict[str, int | None] = {}
        for name in FIELDS:
            value = self[name].data or ""
            result[name] = int(value) if value.isdigit() and len(value) < 4 else None
        return result
