"""The forms that delete: a typed confirmation and the current password, for an organization and an account."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from engpass.accounts.forms import PASSWORD_MAX
from engpass.single_line import SingleLine


def _current_password() -> PasswordField:
    return PasswordField(
        _l("Your current password"),
        render_kw={"autocomplete": "current-password"},
        validators=[DataRequired(message=_l("Please enter your current password.")), Length(max=PASSWORD_MAX)],
    )


def typed_exactly(typed: str | None, *expected: str) -> bool:
    """Whether ``typed`` is one of ``expected``, spaces around it aside. Unicode-normalised, so an "ü" typed
    as "u" plus a combining mark counts; case counts, as it does on the page."""

    def normal(text: str) -> str:
        return unicodedata.normalize("NFC", text.strip())

    return typed is not None and normal(typed) in {normal(text) for text in expected}


class DeleteOrganizationForm(FlaskForm):
    confirmation = StringField(
        _l("The organization's name"),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please type the organization's name to confirm.")),
            Length(max=200),
        ],
    )
    current_password = _current_password()


class DeleteAccountForm(FlaskForm):
    confirmation = StringField(
        _l("Your e-mail address"),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please type your e-mail address to confirm.")),
            Length(max=254),
        ],
    )
    current_password = _current_password()
