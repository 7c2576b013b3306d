"""Team forms: invite, change a role, transfer ownership, and sign up through an invitation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from engpass.accounts.forms import _password, _strip
from engpass.i18n import ROLE_LABELS
from engpass.organizations.models import Role
from engpass.single_line import SingleLine

# Most rights first, as the team page lists people.
ROLE_CHOICES = (Role.owner, Role.admin, Role.member, Role.viewer)


def role_choices(*, with_owner: bool) -> list[SelectChoice]:
    return [
        SelectChoice(role.value, ROLE_LABELS[role.value]) for role in ROLE_CHOICES if with_owner or role != Role.owner
    ]


class InviteForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        filters=[_strip],
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please enter an e-mail address.")),
            Length(max=254, message=_l("The e-mail address is too long.")),
            Email(message=_l("Please enter a valid e-mail address."), check_deliverability=False),
        ],
    )
    role = SelectField(_l("Role"), default=Role.member.value)

    def __init__(self, *args: object, with_owner: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices(with_owner=with_owner)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"))

    def __init__(self, *args: object, with_owner: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices(with_owner=with_owner)


class TransferForm(FlaskForm):
    membership_id = SelectField(
        _l("New owner"),
        coerce=int,
        validate_choice=True,
        validators=[DataRequired(message=_l("Please choose a member."))],
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class InvitationSignupForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please enter your name.")),
            Length(max=120, message=_l("At most %(max)d characters.", max=120)),
        ],
    )
    password = _password(_l("Password"))
    confirm = PasswordField(
        _l("Repeat the password"),
        render_kw={"autocomplete": "new-password"},
        validators=[EqualTo("password", message=_l("The passwords do not match."))],
    )
