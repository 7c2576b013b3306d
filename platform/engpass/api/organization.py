"""The organization's settings over the API: what the business case depends on (the hourly rate above all),
so that a client computes the same figures as the web. Read by every member, changed by admins and owners
through the same domain function as the settings page (``dashboard.org_settings.update_settings``).
"""

from __future__ import annotations

from typing import Any

from flask import g

from engpass.api.blueprint import bp, endpoint
from engpass.api.organization_schemas import OrganizationPatchSchema, OrganizationSchema
from engpass.api.problems import implausible
from engpass.cycles.plausibility import rate_doubts
from engpass.dashboard.org_settings import SETTINGS_FIELDS, update_settings
from engpass.db import db
from engpass.organizations.permissions import Action

TAG = "Organization"


def _document() -> dict[str, Any]:
    return {"slug": g.org.slug, **{name: getattr(g.org, name) for name in SETTINGS_FIELDS}}


# Reading the rate is part of reading a business case: whoever sees the cycles sees what values them.
@endpoint("/organization", "GET", Action.view_cycles, tag=TAG)
@bp.response(200, OrganizationSchema)
def get_organization() -> dict[str, Any]:
    """The organization's name, language, time zone, currency, and the hourly rate and working weeks per year
    its business cases use."""
    return _document()


@endpoint("/organization", "PATCH", Action.edit_org_settings, tag=TAG, errors=(409,))
@bp.arguments(OrganizationPatchSchema)
@bp.response(200, OrganizationSchema)
def update_organization(data: dict[str, Any]) -> dict[str, Any]:
    """Change any of the settings (admins and owners).

    A new hourly rate or number of working weeks per year revalues every cycle's business case and rewrites
    the whole trend. A rate above
    500 per hour answers 422 unless `confirm_implausible` is true.
    """
    values = {name: data[name] for name in SETTINGS_FIELDS if name in data}
    doubts = rate_doubts(
        values.get("default_hourly_rate"), values.get("currency", g.org.currency), g.org.default_hourly_rate
    )
    if doubts and not data.get("confirm_implausible"):
        raise implausible(doubts)
    update_settings(db.session(), g.org, values, g.api_user.id)
    db.session.commit()
    return _document()
