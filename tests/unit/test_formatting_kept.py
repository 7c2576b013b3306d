"""Figures and days are kept once formatted (engpass.formatting): a kept text must be exactly what formatting
the value again would give, in the language it was formatted for — whatever type or exponent the equal
value came with."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from babel import Locale
from flask_babel import force_locale
from hypothesis import given
from hypothesis import strategies as st

from engpass.formatting import _number, day, number

DE, EN = Locale("de"), Locale("en")
FIGURES = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=4, allow_nan=False)
PLACES = st.sampled_from([None, 0, 1, 2])


def _equal_forms(value: Decimal) -> list[Decimal | int | float]:
    """The same value as other inputs the cache cannot tell apart: other exponents, an int, a float."""
    forms: list[Decimal | int | float] = [value, value.normalize(), value.quantize(Decimal("0.0000001"))]
    if value == value.to_integral_value():
        forms.append(int(value))
    if Decimal(float(value)) == value:
        forms.append(float(value))
    return forms


@given(value=FIGURES, places=PLACES)
def test_equal_values_are_written_alike_so_one_kept_text_serves_them_all(value, places):
    for locale in (DE, EN):
        assert len({_number(form, places, locale) for form in _equal_forms(value)}) == 1


@pytest.mark.parametrize("value", [Decimal("1234.5"), Decimal("0.25"), 27040, Decimal("-55.6")])
def test_a_figure_kept_in_one_language_is_written_anew_in_the_other(app_context, value):
    with force_locale("de"):
        german = number(value)
    with force_locale("en"):
        english = number(value)
    with force_locale("de"):
        assert number(value) == german
    assert german == _number(value, None, DE)
    assert english == _number(value, None, EN)


def test_zero_and_minus_zero_keep_their_own_texts(app_context):
    with force_locale("de"):
        assert number(Decimal("0")) == _number(Decimal("0"), None, DE)
        assert number(Decimal("-0")) == _number(Decimal("-0"), None, DE)
        assert number(Decimal("0")) == _number(Decimal("0"), None, DE)


def test_a_day_kept_in_one_language_is_written_anew_in_the_other(app_context):
    with force_locale("de"):
        assert day(date(2026, 3, 5)) == "05.03.2026"
    with force_locale("en"):
        assert day(date(2026, 3, 5)) == "Mar 5, 2026"
    with force_locale("de"):
        assert day(date(2026, 3, 5), "long") == "5. März 2026"
