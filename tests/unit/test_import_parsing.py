"""Reading uploaded files and their rows: separators, encodings, German numbers, Excel dates, bad rows."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from babel import Locale
from openpyxl import Workbook

from engpass.imports.parsing import MAX_ROWS, UploadError, read_table
from engpass.imports.rows import guess_mapping, read_row

DE = Locale("de")
EN = Locale("en")


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context(headers={"Accept-Language": "de"}):
        yield


@pytest.mark.parametrize("separator", [";", ",", "\t"])
def test_every_separator_is_recognised_from_the_header(separator):
    text = separator.join(["Datum", "Wert", "Notiz"]) + "\n06.12.2026" + separator + "5" + separator + "x\n"
    table = read_table(text.encode())
    assert table.headers == ["Datum", "Wert", "Notiz"]
    assert table.rows == [["06.12.2026", "5", "x"]]


@pytest.mark.parametrize(
    "content",
    [
        "Datum;Wert;Notiz\n06.12.2026;5;Überstunden ÄÖÜ €\n".encode("cp1252"),
        "Datum;Wert;Notiz\n06.12.2026;5;Überstunden ÄÖÜ €\n".encode(),
        "\ufeffDatum;Wert;Notiz\n06.12.2026;5;Überstunden ÄÖÜ €\n".encode(),
    ],
    ids=["cp1252", "utf-8", "utf-8-bom"],
)
def test_encodings_of_german_exports_are_read(content):
    table = read_table(content)
    assert table.headers[0] == "Datum"
    assert table.rows[0][2] == "Überstunden ÄÖÜ €"


def test_quoted_fields_keep_their_separators():
    table = read_table(b'Datum,Wert,Notiz\n2026-12-06,"1,5","a, b"\n')
    assert table.rows == [["2026-12-06", "1,5", "a, b"]]


def _workbook(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_keeps_numbers_and_dates():
    content = _workbook([["Datum", "Wert", "Stunden/Woche"], [datetime(2026, 12, 6), 7.5, 10], [46362, 3, None]])
    table = read_table(content)
    assert table.headers == ["Datum", "Wert", "Stunden/Woche"]
    mapping = guess_mapping(table.headers)
    first = read_row(2, table.rows[0], mapping, DE)
    second = read_row(3, table.rows[1], mapping, DE)
    assert first.values["measured_on"] == date(2026, 12, 6) and first.values["kpi_value"] == Decimal("7.5")
    assert second.values["measured_on"] == date(2026, 12, 6)  # Excel's day number 46362
    assert second.values["hours_per_week"] is None and second.ok


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "leer"),
        (b"\n\n  \n", "leer"),
        (b"\x00\xff\xfe binary", "kann nicht gelesen werden"),
        (b"PK\x03\x04 not really a zip", "Excel-Datei"),
        (b"06.12.2026;5\n07.12.2026;6\n", "erste Zeile"),
        (b"Datum;Wert\n", "keine Zeilen"),
        (b"x" * (2 * 1024 * 1024 + 1), "zu groß"),
        (b"Datum;Wert\n" + b"06.12.2026;5\n" * (MAX_ROWS + 1), "zu viele Zeilen"),
    ],
)
def test_bad_files_are_refused_with_a_message(content, message):
    with pytest.raises(UploadError) as refused:
        read_table(content)
    assert message in refused.value.message


def test_headers_are_guessed_in_german_and_english():
    german = guess_mapping(["Datum", "Wert", "Stunden/Woche", "Kosten/Woche", "Bemerkung"])
    assert german == {"measured_on": 0, "kpi_value": 1, "hours_per_week": 2, "cost_per_week": 3, "note": 4}
    english = guess_mapping(["Note", "Cost per week", "Hours per week", "Value", "Date"])
    assert english == {"measured_on": 4, "kpi_value": 3, "hours_per_week": 2, "cost_per_week": 1, "note": 0}
    assert guess_mapping(["Spalte A", "Spalte B"])["measured_on"] is None


MAPPING = {"measured_on": 0, "kpi_value": 1, "hours_per_week": 2, "cost_per_week": 3, "note": 4}


@pytest.mark.parametrize(
    ("cells", "locale", "expected"),
    [
        (["06.12.2026", "50,00", "1.234,5", "", ""], DE, (date(2026, 12, 6), Decimal("50"), Decimal("1234.50"))),
        (["2026-12-06", "12.5", "3", "", ""], DE, (date(2026, 12, 6), Decimal("12.5"), Decimal("3.00"))),
        (["2026-12-06", "1,234.5", "3", "", ""], EN, (date(2026, 12, 6), Decimal("1234.5"), Decimal("3.00"))),
        (["46362", "−4", "0", "", ""], DE, (date(2026, 12, 6), Decimal("-4"), Decimal("0.00"))),
    ],
)
def test_values_are_read_in_the_users_notation(cells, locale, expected):
    row = read_row(2, cells, MAPPING, locale)
    assert row.ok, row.errors
    assert (row.values["measured_on"], row.values["kpi_value"], row.values["hours_per_week"]) == expected


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (["06.12.2026", "1.234", "", "", ""], "nicht eindeutig"),
        (["06.12.2026", "abc", "", "", ""], "Messwert: Bitte geben Sie eine Zahl ein"),
        (["31.02.2026", "5", "", "", ""], "ist kein Datum"),
        (["12/06/2026", "5", "", "", ""], "ist kein Datum"),
        (["01.01.1980", "5", "", "", ""], "zwischen 1990 und 2100"),
        (["", "5", "", "", ""], "Datum: fehlt."),
        (["06.12.2026", "", "", "", ""], "Messwert: fehlt."),
        (["06.12.2026", "5", "-3", "", ""], "0 oder mehr"),
        (["06.12.2026", "5", "", "", "x" * 2001], "Höchstens 2000 Zeichen"),
    ],
)
def test_bad_rows_say_what_is_wrong_in_german(cells, message):
    row = read_row(7, cells, MAPPING, DE)
    assert not row.ok
    assert any(message in error for error in row.errors), row.errors
