"""The one number parser (engpass.number_input): what a German and an English user type, and the API's strings.

Properties over both locales: every number Babel writes, with or without grouping, reads back as the same
value, except the one shape the rules call ambiguous; nothing typed ever raises anything but the parser's
own error with a message.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel import Locale
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol
from flask_babel import force_locale
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engpass.formatting import input_number
from engpass.number_input import NumberInputError, parse_number

DE, EN = Locale("de"), Locale("en")
LOCALES = st.sampled_from([DE, EN])


@pytest.mark.parametrize(
    ("locale", "typed", "value"),
    [
        (DE, "50,00", "50"),
        (DE, "50", "50"),
        (DE, "1.234,5", "1234.5"),
        (DE, "1 234,5", "1234.5"),
        (DE, "1\u202f234,5", "1234.5"),
        (DE, "1\xa0234", "1234"),
        (DE, "1.234.567", "1234567"),
        (DE, "1.234.567,89", "1234567.89"),
        (DE, "12.5", "12.5"),
        (DE, "50.00", "50"),
        (DE, "0.123", "0.123"),
        (DE, "1.2345", "1.2345"),
        (DE, "12,345", "12.345"),
        (DE, " \u22123,5 ", "-3.5"),
        (DE, "+4", "4"),
        (DE, "-0", "0"),
        (DE, "007", "7"),
        (EN, "50.00", "50"),
        (EN, "1,234.5", "1234.5"),
        (EN, "1 234.5", "1234.5"),
        (EN, "1,234,567", "1234567"),
        (EN, "50,00", "50"),
        (EN, "12,5", "12.5"),
        (EN, "0,123", "0.123"),
        (None, "12.5", "12.5"),
        (None, "-3", "-3"),
        (None, "0.0001", "0.0001"),
    ],
)
def test_what_people_type_is_read_in_their_notation(locale, typed, value):
    assert parse_number(typed, locale) == Decimal(value)


@pytest.mark.parametrize(
    ("locale", "typed", "message"),
    [
        (DE, "1.234", "„1.234“ ist nicht eindeutig: meinen Sie 1234 oder 1,234?"),
        (DE, "-123.456", "„-123.456“ ist nicht eindeutig: meinen Sie −123456 oder −123,456?"),
        (EN, "1,234", "“1,234” is ambiguous: do you mean 1234 or 1.234?"),
        (EN, "100,000", "“100,000” is ambiguous: do you mean 100000 or 100.000?"),
    ],
)
def test_one_group_sign_before_three_digits_is_refused_naming_both_readings(app_context, locale, typed, message):
    with force_locale(str(locale)), pytest.raises(NumberInputError) as refused:
        parse_number(typed, locale)
    assert refused.value.message == message


@pytest.mark.parametrize(
    ("locale", "typed"),
    [
        (DE, "1.23.4"),
        (DE, "1,2,3"),
        (DE, "12,5,0"),
        (DE, "1,234.5"),
        (DE, "1.234 567"),
        (DE, "12 5"),
        (DE, "1.2345,6"),
        (DE, "12,"),
        (DE, ",5"),
        (DE, "1..5"),
        (EN, "1.234.567"),
        (EN, "1.234,5"),
        (EN, "1,23,4"),
        (None, "1,234"),
        (None, "12,5"),
        (None, "1 000"),
    ],
)
def test_malformed_numbers_are_refused_with_how_to_write_them(app_context, locale, typed):
    with force_locale(str(locale or "de")), pytest.raises(NumberInputError) as refused:
        parse_number(typed, locale)
    assert typed.strip() in refused.value.message and not refused.value.plain


@pytest.mark.parametrize(
    "typed", ["", "   ", "abc", "1e5", "1E5", "NaN", "Infinity", "١٢", "１２", "--5", "5-", "12 €", "0x10", "1" * 41]
)
@pytest.mark.parametrize("locale", [DE, EN, None])
def test_what_is_no_number_at_all_is_refused_with_an_example(app_context, locale, typed):
    with force_locale("de"), pytest.raises(NumberInputError) as refused:
        parse_number(typed, locale)
    expected = {DE: "12,5", EN: "12.5", None: "12.5"}[locale]
    assert refused.value.message == f"Bitte geben Sie eine Zahl ein, z. B. {expected}."


def _ambiguous(text: str, locale: Locale) -> bool:
    body = text.lstrip("-")
    group = get_group_symbol(locale)
    return get_decimal_symbol(locale) not in body and body.count(group) == 1 and len(body.split(group)[1]) == 3


@given(
    locale=LOCALES,
    value=st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False, allow_infinity=False),
    grouping=st.booleans(),
)
@example(locale=DE, value=Decimal("1234"), grouping=True)
@example(locale=EN, value=Decimal("1234.5"), grouping=True)
def test_every_number_babel_writes_reads_back_as_the_same_value(locale, value, grouping):
    text = format_decimal(value, format="#,##0.####", locale=locale, group_separator=grouping)
    if grouping and _ambiguous(text, locale):
        with pytest.raises(NumberInputError):
            parse_number(text, locale)
    else:
        assert parse_number(text, locale) == value


@given(locale=LOCALES, whole=st.integers(1, 999), thousands=st.integers(0, 999), negative=st.booleans())
def test_one_group_sign_and_three_digits_is_always_refused(locale, whole, thousands, negative):
    text = f"{'-' if negative else ''}{whole}{get_group_symbol(locale)}{thousands:03d}"
    with pytest.raises(NumberInputError) as refused:
        parse_number(text, locale)
    assert "ambiguous" in refused.value.message


@given(
    locale=st.sampled_from([DE, EN, None]),
    typed=st.one_of(st.text(max_size=50), st.text(alphabet="0123456789.,+- \u2212\xa0e", max_size=20)),
)
def test_anything_typed_is_a_finite_number_or_the_parsers_refusal(locale, typed):
    try:
        value = parse_number(typed, locale)
    except NumberInputError as refused:
        assert refused.message
    else:
        assert value.is_finite()
        assert str(value) != "-0"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    language=st.sampled_from(["de", "en"]),
    value=st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False, allow_infinity=False),
)
def test_what_a_form_writes_back_into_a_field_reads_as_the_same_value(app, language, value):
    # A refused form shows the value again, and an edit form the saved one: submitted unchanged, it must stay.
    with app.test_request_context(), force_locale(language):
        assert parse_number(input_number(value), Locale(language)) == value
