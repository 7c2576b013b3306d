"""Account forms. Labels and messages are lazy so they follow the request's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from engpass.i18n import LANGUAGES
from engpass.organizations.forms import timezone_choices
from engpass.single_line import SingleLine

PASSWORD_MIN = 10
PASSWORD_MAX = 128


def _password(label: str) -> PasswordField:
    return PasswordField(
        label,
        render_kw={"autocomplete": "new-password"},
        validators=[
            DataRequired(message=_l("Please enter a password.")),
            Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                message=_l(
                    "The password must be %(min)d to %(max)d characters long.", min=PASSWORD_MIN, max=PASSWORD_MAX
                ),
            ),
        ],
    )


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _email() -> EmailField:
    return EmailField(
        _l("E-mail"),
        filters=[_strip],
        render_kw={"autocomplete": "email"},
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please enter your e-mail address.")),
            Length(max=254, message=_l("The e-mail address is too long.")),
            Email(message=_l("Please enter a valid e-mail address."), check_deliverability=False),
        ],
    )


class SignupForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please enter your name.")),
            Length(max=120, message=_l("At most %(max)d characters.", max=120)),
        ],
    )
    email = _email()
    company = StringField(
        _l("Company"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please enter your company's name.")),
            Length(max=120, message=_l("At most %(max)d characters.", max=120)),
        ],
    )
    password = _password(_l("Password"))


class LoginForm(FlaskForm):
    email = _email()
    password = PasswordField(
        _l("Password"),
        render_kw={"autocomplete": "current-password"},
        validators=[DataRequired(message=_l("Please enter your password.")), Length(max=PASSWORD_MAX)],
    )
    remember = BooleanField(_l("Stay signed in"))


class ForgotPasswordForm(FlaskForm):
    email = _email()


class ResetPasswordForm(FlaskForm):
    password = _password(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the new password"),
        render_kw={"autocomplete": "new-password"},
        validators=[EqualTo("password", message=_l("The passwords do not match."))],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        render_kw={"autocomplete": "current-password"},
        validators=[DataRequired(message=_l("Please enter your current password.")), Length(max=PASSWORD_MAX)],
    )
    password = _password(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the new password"),
        render_kw={"autocomplete": "new-password"},
        validators=[EqualTo("password", message=_l("The passwords do not match."))],
    )


class AccountSettingsForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please enter your name.")),
            Length(max=120, message=_l("At most %(max)d characters.", max=120)),
        ],
    )
    locale = SelectField(_l("Language"), choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()])
    timezone = SelectField(_l("Time zone"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Validated against the list: only zoneinfo names, so every later ZoneInfo() call works.
        self.timezone.choices = [SelectChoice(tz) for tz in timezone_choices()]


class EmailChangeForm(FlaskForm):
    email = _email()
    current_password = PasswordField(
        _l("Current password"),
        render_kw={"autocomplete": "current-password"},
        validators=[DataRequired(message=_l("Please enter your current password.")), Length(max=PASSWORD_MAX)],
    )


class ConfirmIdentityForm(FlaskForm):
    password = PasswordField(
        _l("Password"),
        render_kw={"autocomplete": "current-password"},
        validators=[DataRequired(message=_l("Please enter your password.")), Length(max=PASSWORD_MAX)],
    )


def _code_field(label: str) -> StringField:
    return StringField(
        label,
        filters=[_strip],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off"},
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please enter the code.")),
            Length(max=32, message=_l("At most %(max)d characters.", max=32)),
        ],
    )


class ConfirmIdentityWithCodeForm(ConfirmIdentityForm):
    code = _code_field(_l("Code from your authenticator app"))


class TwoFactorCodeForm(FlaskForm):
    code = _code_field(_l("Code from your authenticator app"))
