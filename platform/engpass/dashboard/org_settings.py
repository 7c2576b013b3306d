"""Changing an organization's settings, shared by the settings page and the API's ``PATCH /organization``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engpass.audit.service import audit_value, record
from engpass.cycles.indirect_service import refresh_organization
from engpass.organizations.models import Organization
from engpass.trends.service import mark_changed

# What the settings page and the API's PATCH /organization change; the business case depends on them.
SETTINGS_FIELDS = ("name", "locale", "timezone", "currency", "default_hourly_rate", "working_weeks_per_year")


def update_settings(
    session: Session, org: Organization, values: dict[str, Any], actor_id: int | None
) -> dict[str, list[Any]]:
    """Change the given settings; returns what changed as {field: [old, new]}, as the audit log records it.

    Savings of every week are valued at the hourly rate and made yearly by the working weeks: a new rate
    or a new number of weeks rewrites the whole trend, and every cycle's indirect cost per week, which is
    its items' yearly sum (waiting valued at the rate) divided by the weeks.
    """
    changes = {
        name: [audit_value(getattr(org, name)), audit_value(values[name])]
        for name in SETTINGS_FIELDS
        if name in values and getattr(org, name) != values[name]
    }
    for name in changes:
        setattr(org, name, values[name])
    if changes.keys() & {"default_hourly_rate", "working_weeks_per_year"}:
        refresh_organization(session, org)
        mark_changed(session)
    if changes:
        record(
            session,
            "organization.updated",
            actor_id=actor_id,
            object_type="organization",
            object_id=org.id,
            changes=changes,
        )
    return changes
