"""The single sign-on forms: the e-mail that finds the provider, and the owner's settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from engpass.i18n import ROLE_LABELS
from engpass.organizations.models import Role
from engpass.single_line import SingleLine


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class SsoEmailForm(FlaskForm):
    email = EmailField(
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


def secure_issuer(_form: FlaskForm, field: Field) -> None:
    """https, or plain http on this machine only (a provider for development and the tests)."""
    try:
        url = urlsplit(field.data or "")
        host = url.hostname
    except ValueError:  # a malformed host, such as an unclosed "[" of an IPv6 address
        host = None
    if host is None or any(ch.isspace() or ord(ch) < 32 for ch in field.data):
        raise ValidationError(_l("Please enter a URL starting with https://, without ? or #."))
    loopback = url.scheme == "http" and host in ("localhost", "127.0.0.1", "::1")
    if (url.scheme != "https" and not loopback) or url.query or url.fragment:
        raise ValidationError(_l("Please enter a URL starting with https://, without ? or #."))


def _default_roles() -> list[SelectChoice]:
    # Never owner: ownership is handed over by a person, not granted by a provider.
    return [SelectChoice(role.value, ROLE_LABELS[role.value]) for role in (Role.admin, Role.member, Role.viewer)]


class ProviderForm(FlaskForm):
    issuer = StringField(
        _l("Issuer URL"),
        filters=[_strip],
        validators=[
            SingleLine(),
            DataRequired(message=_l("Please enter the issuer URL.")),
            Length(max=500),
            secure_issuer,
        ],
        render_kw={"placeholder": "https://login.microsoftonline.com/<tenant>/v2.0", "inputmode": "url"},
    )
    client_id = StringField(
        _l("Client ID"),
        filters=[_strip],
        validators=[SingleLine(), DataRequired(message=_l("Please enter the client ID.")), Length(max=255)],
    )
    client_secret = PasswordField(_l("Client secret"), validators=[Length(max=1000)], render_kw={"autocomplete": "off"})
    default_role = SelectField(_l("Role of people who join by single sign-on"), choices=_default_roles)


class DomainForm(FlaskForm):
    domain = StringField(
        _l("Domain"),
        validators=[SingleLine(), DataRequired(message=_l("Please enter a domain.")), Length(max=253)],
        render_kw={"placeholder": "firma.de"},
    )


class RequireSsoForm(FlaskForm):
    # A checkbox: a form sent without it switches the requirement off.
    require = BooleanField(_l("Members must sign in through the identity provider (owners may still use the password)"))


class EmptyForm(FlaskForm):
    """A button's form: only the CSRF token."""
