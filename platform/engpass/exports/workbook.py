"""``Sheet``s as one Excel workbook (openpyxl), one worksheet each, ready to filter and sum.

Typed cells: numbers are numbers, dates dates, money a number with the organization's currency as its
format. The header row is bold, frozen and carries an autofilter; columns have widths that fit their
content. Text is always written as text, never as a formula, whatever it starts with.

openpyxl's write-only mode streams each row to a temporary file as it comes, so memory does not grow
with the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from babel.numbers import get_currency_symbol
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from engpass.exports.rows import Column, Kind, Sheet

# Excel's built-in formats 14 and 22: shown in the short date (and time) of the reader's own Excel.
DATE_FORMAT = "mm-dd-yy"
DATETIME_FORMAT = "m/d/yy h:mm"
# "General": a whole number shows without the trailing decimal sign that "0.##" leaves in Excel.
NUMBER_FORMAT = "General"
PERCENT_FORMAT = "0.0"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E7F4F1")
HEADER_ALIGNMENT = Alignment(vertical="top", wrap_text=True)
# Characters an .xlsx cannot hold (control characters other than tab and line breaks).
ILLEGAL = ILLEGAL_CHARACTERS_RE
SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def money_format(currency: str, locale: object) -> str:
    """Two decimals with the currency sign where the language puts it: ``1.234,50 €`` / ``€1,234.50``."""
    symbol = get_currency_symbol(currency, locale=str(locale)).replace('"', "")
    if str(locale).split("_")[0] == "de":
        return f'#,##0.00\\ "{symbol}";\\-#,##0.00\\ "{symbol}"'
    return f'"{symbol}"#,##0.00;\\-"{symbol}"#,##0.00'


def _formats(currency: str, locale: object) -> dict[Kind, str | None]:
    return {
        Kind.text: None,
        Kind.integer: "0",
        Kind.number: NUMBER_FORMAT,
        Kind.money: money_format(currency, locale),
        Kind.percent: PERCENT_FORMAT,
        Kind.date: DATE_FORMAT,
        Kind.datetime: DATETIME_FORMAT,
    }


def _text_cell(ws: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=ILLEGAL.sub("", value))
    # openpyxl takes "=…" for a formula and "#N/A" for an error: a user's text is neither.
    cell.data_type = "s"
    return cell


def _cell(ws: WriteOnlyWorksheet, value: Any, column: Column, number_format: str | None) -> Any:
    if value is None:
        return None
    if column.kind == Kind.text:
        return _text_cell(ws, str(value))
    cell = WriteOnlyCell(ws, value=int(value) if column.kind == Kind.integer else value)
    if number_format:
        cell.number_format = number_format
    return cell


def sheet_name(title: str) -> str:
    return title.translate(SHEET_NAME_FORBIDDEN)[:31]


def _add(workbook: Workbook, sheet: Sheet, formats: dict[Kind, str | None]) -> int:
    ws = workbook.create_sheet(sheet_name(sheet.title))
    # Widths and the frozen row go before the first row: write-only sheets write their head first.
    for index, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = max(column.width, min(len(column.label) + 2, 30))
    ws.freeze_panes = "A2"
    header = []
    for column in sheet.columns:
        cell = _text_cell(ws, column.label)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
        header.append(cell)
    ws.append(header)
    count = 0
    for row in sheet.rows:
        ws.append(
            [_cell(ws, value, column, formats[column.kind]) for value, column in zip(row, sheet.columns, strict=True)]
        )
        count += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{count + 1}"
    return count


def write(sheets: Iterable[Sheet], out: IO[bytes], currency: str, locale: object, title: str = "") -> int:
    """The workbook of ``sheets`` into ``out``; returns the number of data rows written."""
    workbook = Workbook(write_only=True)
    workbook.properties.title = title or None
    workbook.properties.creator = "Engpass"
    formats = _formats(currency, locale)
    count = sum(_add(workbook, sheet, formats) for sheet in sheets)
    workbook.save(out)
    return count
