"""Numbers, money, percentages and dates in the user's language, for every page and chart.

Babel writes negative numbers with a hyphen; the pages use the typographic minus so that
"−55,6 %" reads as a figure, not as a dash.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache

from babel import Locale, dates
from babel.numbers import NumberPattern, format_currency, format_percent, get_decimal_symbol, parse_pattern
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

MINUS = "\u2212"
# Parsed once: a page formats a few hundred figures, and parsing the pattern was a third of each.
_FIGURE = parse_pattern("#,##0.####")
# Formatted figures and days kept per language: a cycle page formats some 200 figures and 170 days (its
# chart's points, its table), many alike, and Babel takes 6 to 9 µs for each. Both are pure functions of
# the value, the rounding and the locale, so a kept text is exactly what formatting again would give.
FORMATTED_KEPT = 4096


def _minus(text: str) -> str:
    return text.replace("-", MINUS, 1) if text.startswith("-") else text


def _locale() -> Locale:
    return get_locale() or Locale("de")


def number(value: Decimal | int | float | None, places: int | None = None) -> str:
    """A figure without trailing zeros ("8", "6,3", "27.040"); ``places`` rounds first."""
    if value is None:
        return ""
    if not value:
        # Zero and minus zero are equal keys, but Babel writes them differently: not kept.
        return _number(value, places, _locale())
    return _kept_number(value, places, _locale())


def _number(value: Decimal | int | float, places: int | None, locale: Locale) -> str:
    value = Decimal(value)
    if places is not None:
        value = round(value, places)
    value = value.normalize() if value == value.to_integral_value() else value
    return _minus(_FIGURE.apply(value, locale))


_kept_number = lru_cache(maxsize=FORMATTED_KEPT)(_number)


def money(value: Decimal | int | None, currency: str) -> str:
    """Whole amounts without cents ("27.040 €"), others with them ("1.234,56 €")."""
    if value is None:
        return ""
    value = Decimal(value)
    locale = _locale()
    if value == value.to_integral_value():
        return _minus(format_currency(value, currency, format=_whole(locale), currency_digits=False, locale=locale))
    return _minus(format_currency(value, currency, locale=locale))


@cache
def _whole(locale: Locale) -> NumberPattern:
    """The locale's currency pattern without cents, parsed once per locale: parsing it cost as much as
    formatting with it, and a digest formats a dozen amounts."""
    pattern = locale.currency_formats["standard"].pattern.split(";")[0]
    return parse_pattern(pattern.replace(".00", "").replace(".##", ""))


def percent(value_in_percent: Decimal | None) -> str:
    """``-55.6`` → "−55,6 %" (German) or "−55.6%" (English)."""
    if value_in_percent is None:
        return ""
    return _minus(format_percent(Decimal(value_in_percent) / 100, locale=_locale(), decimal_quantization=False))


def signed_percent(value_in_percent: Decimal | None) -> str:
    """A change: "+12 %" or "−55,6 %"."""
    text = percent(value_in_percent)
    return "+" + text if value_in_percent is not None and value_in_percent > 0 else text


def input_number(value: Decimal | int | None) -> str:
    """A number as the user would type it back into a form: no grouping, the locale's decimal sign."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text.replace(".", get_decimal_symbol(_locale()))


def day(value: date | datetime | None, form: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        # An instant: on the user's calendar, which Flask-Babel's rebasing into their time zone gives.
        return format_date(value, form)
    # A calendar day has no zone to rebase into: Babel's own formatter, without Flask-Babel's lookups per call.
    return _calendar_day(value, form, _locale())


@lru_cache(maxsize=FORMATTED_KEPT)
def _calendar_day(value: date, form: str, locale: Locale) -> str:
    return dates.format_date(value, form, locale=locale)


def file_size(size_bytes: int) -> str:
    """A file's size in kB or MB (decimal units, as file managers show them)."""
    if size_bytes < 1_000_000:
        return _("%(size)s kB", size=number(Decimal(size_bytes) / 1000, 0 if size_bytes >= 10_000 else 1))
    return _("%(size)s MB", size=number(Decimal(size_bytes) / 1_000_000, 1))
