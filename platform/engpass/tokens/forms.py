"""The form to create a personal access token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from engpass.single_line import SingleLine
from engpass.tokens.service import EXPIRY_CHOICES_DAYS, NAME_MAX

NEVER = "never"
DEFAULT_EXPIRY = "90"


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            SingleLine(),
            DataRequired(_l("Please name the token, e.g. after the flow that uses it.")),
            Length(max=NAME_MAX, message=_l("At most %(max)d characters.", max=NAME_MAX)),
        ],
        render_kw={"placeholder": _l("e.g. Power Automate: weekly report")},
    )
    expires = SelectField(
        _l("Valid for"),
        choices=[SelectChoice(str(days), _l("%(num)d days", num=days)) for days in EXPIRY_CHOICES_DAYS]
        + [SelectChoice(NEVER, _l("No expiry"))],
        default=DEFAULT_EXPIRY,
        validate_choice=True,
    )

    def expiry_days(self) -> int | None:
        return None if self.expires.data == NEVER else int(self.expires.data)
