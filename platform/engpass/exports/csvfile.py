"""A ``Sheet`` as CSV that a spreadsheet opens with a double click, in the reader's language.

- UTF-8 with a byte-order mark: without it Excel reads UTF-8 as Windows-1252 and "Müller" turns into "MÃ¼ller".
- The separator and the decimal sign follow the language, as Excel does: in German ``;`` and ``12,5`` (Excel set
  to German reads ``,`` as the decimal sign, so it cannot also separate cells), in English ``,`` and ``12.5``.
- Numbers are plain: no thousands separators, no currency sign (the currency is in the header), an ASCII minus;
  dates ISO 8601 (``2026-12-02``, ``2026-12-02 14:05:00``), which every spreadsheet reads as dates.
- Text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return) gets a leading apostrophe (OWASP's advice against CSV injection). Our own numbers are never touched.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from engpass.exports.rows import Column, Kind, Sheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    decimal: str


GERMAN = Dialect(delimiter=";", decimal=",")
ENGLISH = Dialect(delimiter=",", decimal=".")


def dialect_for(locale: object) -> Dialect:
    """German conventions for German, English ones for every other language."""
    return GERMAN if str(locale).split("_")[0] == "de" else ENGLISH


def neutralise(text: str) -> str:
    """Text a spreadsheet would evaluate, made inert by a leading apostrophe (shown, never evaluated)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any, column: Column, dialect: Dialect) -> str:
    if value is None:
        return ""
    if column.kind == Kind.text:
        return neutralise(str(value))
    if column.kind == Kind.integer:
        return str(int(value))
    if column.kind in (Kind.number, Kind.money, Kind.percent):
        amount = Decimal(value)
        amount = amount.quantize(CENT) if column.kind == Kind.money else amount.normalize()
        return format(amount, "f").replace(".", dialect.decimal)
    if column.kind == Kind.datetime and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if column.kind == Kind.date and isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def write(sheet: Sheet, out: IO[str], dialect: Dialect) -> int:
    """Write the header and every row to ``out`` (a text stream opened with ``newline=""`` and the
    encoding ``utf-8-sig``); returns the number of rows."""
    writer = csv.writer(out, delimiter=dialect.delimiter, lineterminator="\r\n")
    writer.writerow([neutralise(column.label) for column in sheet.columns])
    count = 0
    for row in sheet.rows:
        writer.writerow([cell(value, column, dialect) for value, column in zip(row, sheet.columns, strict=True)])
        count += 1
    return count
