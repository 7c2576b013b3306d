"""Single-line text: names, titles, units. A line break or other control character in one is refused at
the door (forms, API, CLI) and folded to a space where an old value goes into a mail header.

A line break in a name ends up in a mail's Subject, where it would start a header of its own; bidi
overrides and zero-width characters make a name read differently from what it is."""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from wtforms import Field
from wtforms.validators import StopValidation

# Format characters that real names need: the soft hyphen, and the zero-width (non-)joiners of Persian,
# Indic scripts and emoji sequences.
_WANTED_FORMAT = frozenset("\u00ad\u200c\u200d")
MESSAGE = _l("Please use one line without control characters.")


def is_unwanted(ch: str) -> bool:
    """C0/C1 controls (tab and line breaks among them), line and paragraph separators, and invisible
    format characters such as bidi overrides."""
    category = unicodedata.category(ch)
    return category in ("Cc", "Zl", "Zp") or (category == "Cf" and ch not in _WANTED_FORMAT)


def has_unwanted(text: str) -> bool:
    return any(is_unwanted(ch) for ch in text)


def fold(text: str) -> str:
    """``text`` on one line: every run of unwanted characters becomes one space."""
    if not has_unwanted(text):
        return text
    return re.sub(r" {2,}", " ", "".join(" " if is_unwanted(ch) else ch for ch in text)).strip()


def _escaped(code_point: int) -> str:
    # \uXXXX reads alike in Python and ECMA-262 (JSON Schema); beyond the BMP the character itself.
    return f"\\u{code_point:04x}" if code_point <= 0xFFFF else chr(code_point)


@cache
def unwanted_class() -> str:
    """The inside of a regular expression's character class holding every unwanted character."""
    ranges: list[tuple[int, int]] = []
    for code_point in range(sys.maxunicode + 1):
        if 0xD800 <= code_point <= 0xDFFF or not is_unwanted(chr(code_point)):
            continue
        if ranges and ranges[-1][1] == code_point - 1:
            ranges[-1] = (ranges[-1][0], code_point)
        else:
            ranges.append((code_point, code_point))
    return "".join(
        _escaped(first) if first == last else f"{_escaped(first)}-{_escaped(last)}" for first, last in ranges
    )


def pattern(*, blank: bool, blank_class: str) -> str:
    """The JSON Schema pattern of a single-line string: no unwanted character anywhere and, unless ``blank``
    is allowed, one character that is neither unwanted nor in ``blank_class`` (a class's inside)."""
    unwanted = unwanted_class()
    # Not "$": Python's matches before a final line break too (and Hypothesis generates one for it).
    end = r"(?![\s\S])"
    if blank:
        return f"^[^{unwanted}]*{end}"
    return f"^[^{unwanted}]*[^{unwanted}{blank_class}][^{unwanted}]*{end}"


class SingleLine:
    """WTForms validator for every single-line text field."""

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str) and has_unwanted(field.data):
            raise StopValidation(str(MESSAGE))


def validate(value: str) -> None:
    """Marshmallow validator for the API's single-line strings."""
    if has_unwanted(value):
        raise ValidationError(str(MESSAGE))
