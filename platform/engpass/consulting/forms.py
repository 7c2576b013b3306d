"""Forms of the consulting pages: the client grants and answers, the consultancy asks."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from engpass.consulting.models import AccessLevel
from engpass.single_line import SingleLine

LEVEL_LABELS = {
    AccessLevel.read: _l("Read: sees everything, changes nothing"),
    AccessLevel.edit: _l("Edit: works on cycles like a member"),
}
LEVEL_SHORT = {AccessLevel.read: _l("read"), AccessLevel.edit: _l("edit")}


def _level_field() -> RadioField:
    return RadioField(
        _l("Access"),
        choices=[SelectChoice(level.value, label) for level, label in LEVEL_LABELS.items()],
        default=AccessLevel.read.value,
        validators=[DataRequired(message=_l("Please choose the access."))],
    )


class GrantByCodeForm(FlaskForm):
    code = StringField(
        _l("Invitation code of the consultancy"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please enter the invitation code.")),
            Length(max=40, message=_l("At most %(max)d characters.", max=40)),
        ],
    )
    level = _level_field()


class ApproveForm(FlaskForm):
    level = _level_field()


class ConfirmForm(FlaskForm):
    """Only the CSRF token: revoke, decline, a new code."""


class RequestAccessForm(FlaskForm):
    client = StringField(
        _l("The client's Engpass address"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please enter the client's address.")),
            Length(max=200, message=_l("At most %(max)d characters.", max=200)),
        ],
    )
    level = _level_field()
    message = TextAreaField(
        _l("Message to the client (optional)"),
        validators=[Length(max=500, message=_l("At most %(max)d characters.", max=500))],
    )
