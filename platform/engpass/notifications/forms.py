"""The notification settings form, the same with a login and behind a signed link."""

from __future__ import annotations

from typing import Any

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.validators import NumberRange


def _number(value: object) -> int | None:
    """Anything that is not a whole number becomes None, which the range check then refuses with our message."""
    try:
        return int(str(value))
    except ValueError:
        return None


class PreferencesForm(FlaskForm):
    digest_enabled = BooleanField(_l("Send me the weekly digest"))
    # validate_choice=False: a value outside the list gets the range message below, not WTForms' own.
    digest_weekday = SelectField(
        _l("Weekday"),
        coerce=_number,
        validate_choice=False,
        validators=[NumberRange(min=0, max=6, message=_l("Please choose a weekday from Monday to Sunday."))],
    )
    digest_hour = SelectField(
        _l("Time"),
        coerce=_number,
        validate_choice=False,
        validators=[NumberRange(min=0, max=23, message=_l("Please choose a full hour between 00:00 and 23:00."))],
    )
    reminders_enabled = BooleanField(_l("Remind me when a cycle of mine stalls"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.digest_weekday.choices = list(get_day_names("wide", locale=get_locale()).items())
        self.digest_hour.choices = [(hour, f"{hour:02d}:00") for hour in range(24)]
