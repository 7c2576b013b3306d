"""Reading an uploaded file into a header and rows of cells: CSV or an Excel workbook, nothing else.

CSV comes from German Excel as Windows-1252 with ``;``, from elsewhere as UTF-8 (with or without a BOM)
with ``,`` or tabs; the separator is the one the header line uses most. A workbook is read in openpyxl's
read-only mode, its first sheet only. A cell stays what the file holds — text, or for a workbook a number
or a date — and is read as a value only once the columns are mapped (``engpass.imports.rows``).

Everything here refuses with an ``UploadError`` whose message is for the user: a file too large, with too
many rows, not text, empty, or without a header row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 50
SEPARATORS = (";", ",", "\t")
XLSX_MAGIC = b"PK\x03\x04"

Cell = str | int | float | date | datetime | None


class UploadError(ValueError):
    """The file cannot be imported; ``message`` says why, in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Cell]]


def read_table(content: bytes) -> Table:
    """The file's header and data rows; a workbook is recognised by its content, not its name."""
    if len(content) > MAX_BYTES:
        raise UploadError(_("The file is too large: at most %(size)s MB.", size=MAX_BYTES // (1024 * 1024)))
    if not content.strip():
        raise UploadError(_("The file is empty."))
    rows = _workbook_rows(content) if content.startswith(XLSX_MAGIC) else _csv_rows(_decode(content))
    return _table(rows)


def _decode(content: bytes) -> str:
    if b"\x00" in content:
        # UTF-16 exports and binary files alike; neither is a CSV we can read.
        raise UploadError(_("This file cannot be read. Please upload a CSV file or an Excel workbook (.xlsx)."))
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise UploadError(
            _("This file cannot be read. Please upload a CSV file or an Excel workbook (.xlsx).")
        ) from None


def _separator(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {separator: header.count(separator) for separator in SEPARATORS}
    best = max(SEPARATORS, key=lambda separator: counts[separator])
    return best if counts[best] else ";"


def _csv_rows(text: str) -> list[list[Cell]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text))
    rows: list[list[Cell]] = []
    try:
        for row in reader:
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 1:
                break
    except csv.Error:
        raise UploadError(_("This file cannot be read as CSV.")) from None
    return rows


def _workbook_rows(content: bytes) -> list[list[Cell]]:
    from openpyxl import load_workbook  # only a workbook upload pays for importing openpyxl

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows: list[list[Cell]] = []
            for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
                rows.append([_cell(value) for value in values])
                if len(rows) > MAX_ROWS + 1:
                    break
        finally:
            workbook.close()
    except Exception:
        raise UploadError(_("This Excel file cannot be read. Please save it again as .xlsx.")) from None
    return rows


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float | date | datetime):
        return value
    return str(value)


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _table(rows: list[list[Cell]]) -> Table:
    rows = [row for row in rows if not all(_blank(cell) for cell in row)]
    if not rows:
        raise UploadError(_("The file is empty."))
    header, data = rows[0], rows[1:]
    if not any(isinstance(cell, str) and cell.strip() and not _numeric(cell) for cell in header):
        raise UploadError(_("The first row must name the columns, e.g. “Datum; Wert”."))
    if len(data) > MAX_ROWS:
        raise UploadError(
            ngettext(
                "The file has too many rows: at most %(num)d row.",
                "The file has too many rows: at most %(num)d rows.",
                MAX_ROWS,
            )
        )
    if not data:
        raise UploadError(_("The file has a header but no rows."))
    # A workbook's rows come padded to the sheet's width: the table ends at its last filled column.
    width = min(MAX_COLUMNS, max(_filled(row) for row in rows))
    headers = [
        str(cell).strip() if not _blank(cell) else _("Column %(number)d", number=index + 1)
        for index, cell in enumerate([*header, *[None] * width][:width])
    ]
    return Table(headers, [[*row, *[None] * width][:width] for row in data])


def _filled(row: list[Cell]) -> int:
    return max((index + 1 for index, cell in enumerate(row) if not _blank(cell)), default=0)


def _numeric(text: str) -> bool:
    """A header cell that is only digits and separators is a value: the file has no header row."""
    return all(c in "0123456789.,-/: " for c in text.strip())
