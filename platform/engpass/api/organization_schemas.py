"""The API's documents of the organization's settings: reading and changing them; the field types and
conventions are those of ``api/schema_fields.py``."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engpass.api.schema_fields import DecimalString, JsonInteger, confirm_implausible, number, one_change_at_least, text
from engpass.i18n import LANGUAGES
from engpass.organizations.forms import CURRENCIES, HOURLY_RATE_BELOW, WORKING_WEEKS_MAX, timezone_choices


class OrganizationSchema(Schema):
    """The organization's settings that the business case depends on."""

    name = fields.String(required=True)
    slug = fields.String(required=True, metadata={"description": "Its part of the web app's addresses."})
    locale = fields.String(required=True, metadata={"description": "The organization's language (`de`, `en`)."})
    timezone = fields.String(required=True, metadata={"description": "Whose calendar says what today is."})
    currency = fields.String(required=True, metadata={"description": "ISO 4217 code of every money field."})
    default_hourly_rate = DecimalString(
        required=True, metadata={"description": "What an hour costs: the business case values saved hours at it."}
    )
    working_weeks_per_year = fields.Integer(
        required=True,
        metadata={"description": "Turns every weekly figure into a yearly one: 52, or e.g. 46 without holidays."},
    )


class OrganizationPatchSchema(Schema):
    """Any subset of the settings. A new hourly rate revalues every week of the trend, as in the web."""

    class Meta:
        json_schema: dict[str, Any] = {}  # filled in by one_change_at_least below

    name = text(120, blank=False)
    locale = fields.String(validate=validate.OneOf(list(LANGUAGES)))
    timezone = fields.String(
        validate=validate.OneOf(timezone_choices(), error="Not a time zone of the IANA database, e.g. Europe/Berlin."),
        metadata={"description": "IANA name, e.g. Europe/Berlin."},
    )
    currency = fields.String(validate=validate.OneOf(CURRENCIES))
    default_hourly_rate = number(HOURLY_RATE_BELOW, 2)
    working_weeks_per_year = JsonInteger(validate=validate.Range(min=1, max=WORKING_WEEKS_MAX))
    confirm_implausible = confirm_implausible()

    @validates_schema
    def _something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.keys() - {"confirm_implausible"}:
            raise ValidationError("Send at least one field to change.")


one_change_at_least(OrganizationPatchSchema)
