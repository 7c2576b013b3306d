"""Reading the numbers people type: the one parser behind every numeric form field and the API's strings.

A German user writes ``1.234,5``, an English one ``1,234.5``; either may type the other notation's
decimal sign out of habit (``12.5`` in German, ``50,00`` in English). The rules, in the user's locale:

- the locale's decimal sign once at most, after the grouped digits (``1.234,5``, ``1 234,5``, ``1,234.5``);
- grouping is the locale's group sign or a space, 1–3 digits first, then groups of exactly three;
- one group sign followed by exactly three digits and no decimal sign (German ``1.234``, English
  ``1,234``) could be either notation: refused, naming both readings, never guessed;
- one group sign that cannot be grouping (German ``12.5``, English ``50,00``) is the decimal sign;
- anything else (``1.23.4``, ``1,2,3``, ``1e5``, ``NaN``, non-ASCII digits, two decimal signs) is refused.

Without a locale (the API's strings) only the plain notation of JSON is read: ``-1234.5``, no grouping.
"""

from __future__ import annotations

import re
from decimal import Decimal

from babel import Locale
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol
from flask_babel import gettext as _

MINUS = "\u2212"
SPACES = (" ", "\xa0", "\u202f")
LONGEST = 40
# Digit runs separated by single separators, nothing else: what the rules below look at.
_SHAPE = re.compile(r"[0-9]+(?:[., ][0-9]+)*")


class NumberInputError(ValueError):
    """What was typed is no number in this notation; ``message`` says why, in the user's language.
    ``plain`` when it holds more than digits and separators: a field may then name its own example."""

    def __init__(self, raw: str, message: str, *, plain: bool = False) -> None:
        super().__init__(raw)
        self.message = message
        self.plain = plain


def _example(locale: Locale | None) -> str:
    """How to write twelve and a half here: "12,5" in German, "12.5" in English and in the API."""
    return "12.5" if locale is None else format_decimal(Decimal("12.5"), locale=locale)


def _not_a_number(raw: str, locale: Locale | None) -> NumberInputError:
    return NumberInputError(raw, _("Please enter a number, e.g. %(example)s.", example=_example(locale)), plain=True)


def _unreadable(raw: str, locale: Locale | None) -> NumberInputError:
    written = format_decimal(Decimal("1234.5"), locale=locale) if locale is not None else "1234.5"
    return NumberInputError(
        raw,
        _(
            "“%(text)s” cannot be read as a number. Please write it like %(example)s.",
            text=raw.strip(),
            example=written,
        ),
    )


def _grouped(runs: list[str]) -> bool:
    """1–3 digits (not a leading zero), then groups of three: thousands, as people group them."""
    first, rest = runs[0], runs[1:]
    return 1 <= len(first) <= 3 and not (first.startswith("0") and rest) and all(len(run) == 3 for run in rest)


def _value(plain: str) -> Decimal:
    value = Decimal(plain)
    # "-0" is zero: no negative zero reaches a column or a message.
    return value.copy_abs() if value.is_zero() else value


def parse_number(raw: str, locale: Locale | None) -> Decimal:
    """The value of what was typed in ``locale``'s notation (None: the API's plain notation).

    Raises NumberInputError, with a message for the user, for anything the module's rules refuse.
    """
    text = raw.strip().replace(MINUS, "-")
    if not text or len(text) > LONGEST:
        raise _not_a_number(raw, locale)
    sign, body = ("-" if text[0] == "-" else "", text[1:]) if text[0] in "+-" else ("", text)
    for space in SPACES:
        body = body.replace(space, " ")
    if not body or any(c not in "0123456789., " for c in body):
        raise _not_a_number(raw, locale)
    if not _SHAPE.fullmatch(body):
        raise _unreadable(raw, locale)

    decimal_sign, group_sign = (".", None) if locale is None else (get_decimal_symbol(locale), get_group_symbol(locale))
    runs = re.split(r"[., ]", body)
    separators = re.findall(r"[., ]", body)

    if locale is None:
        if separators and separators != ["."]:
            raise _unreadable(raw, locale)
        return _value(sign + body)

    if separators.count(decimal_sign) > 1:
        raise _unreadable(raw, locale)
    if decimal_sign in separators:
        if separators[-1] != decimal_sign:
            raise _unreadable(raw, locale)
        grouping, whole, fraction = separators[:-1], runs[:-1], runs[-1]
    else:
        grouping, whole, fraction = separators, runs, ""
    # Grouping is one kind of sign throughout: the locale's group sign or spaces.
    if len(set(grouping)) > 1 or (grouping and grouping[0] not in (group_sign, " ")):
        raise _unreadable(raw, locale)

    if grouping and not _grouped(whole):
        if grouping == [group_sign] and not fraction:
            # "12.5" in German, "50,00" in English: the other notation's decimal sign.
            return _value(f"{sign}{whole[0]}.{whole[1]}")
        raise _unreadable(raw, locale)
    if grouping == [group_sign] and not fraction:
        thousands = sign + "".join(whole)
        decimal = sign + whole[0] + decimal_sign + whole[1]
        raise NumberInputError(
            raw,
            _(
                "“%(text)s” is ambiguous: do you mean %(thousands)s or %(decimal)s?",
                text=raw.strip(),
                thousands=thousands.replace("-", MINUS),
                decimal=decimal.replace("-", MINUS),
            ),
        )
    return _value(sign + "".join(whole) + ("." + fraction if fraction else ""))
