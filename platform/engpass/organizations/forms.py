"""Organization settings form."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from engpass.form_fields import ConfirmDoubts, NumberField, Required
from engpass.i18n import LANGUAGES
from engpass.single_line import SingleLine

CURRENCIES = ["EUR", "CHF", "USD", "GBP", "PLN", "CZK", "DKK", "SEK"]
# The column holds Numeric(10, 2); a rate beyond this is no hourly rate but a typing error.
HOURLY_RATE_BELOW = Decimal(10000)
WORKING_WEEKS_MAX = 53


@cache
def timezone_choices() -> tuple[str, ...]:
    return tuple(sorted(tz for tz in available_timezones() if "/" in tz and not tz.startswith("Etc/")))


class OrganizationSettingsForm(ConfirmDoubts, FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please enter a name.")),
            Length(max=120, message=_l("At most %(max)d characters.", max=120)),
        ],
    )
    locale = SelectField(_l("Language"), choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()])
    timezone = SelectField(_l("Time zone"))
    currency = SelectField(_l("Currency"), choices=[SelectChoice(c) for c in CURRENCIES])
    default_hourly_rate = NumberField(
        _l("Default hourly rate"), [Required(_l("Please enter an hourly rate."))], below=HOURLY_RATE_BELOW
    )

    working_weeks_per_year = NumberField(
        _l("Working weeks per year"),
        [Required(_l("Please enter the working weeks per year."))],
        places=0,
        minimum=Decimal(1),
        below=Decimal(WORKING_WEEKS_MAX + 1),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = [SelectChoice(tz) for tz in timezone_choices()]


class RequireTwoFactorForm(FlaskForm):
    # A checkbox: a form sent without it switches the requirement off.
    require = BooleanField(_l("Everyone working in this organization must use two-factor authentication"))
