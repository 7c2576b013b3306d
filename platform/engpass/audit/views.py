"""The organization's audit log, for its admins: filterable by who, what, consultants and dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template, request
from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased

from engpass.accounts.models import User
from engpass.audit.models import AuditEvent
from engpass.db import db
from engpass.organizations.context import org_blueprint
from engpass.organizations.models import Organization
from engpass.organizations.permissions import Action, require_permission

bp = org_blueprint("audit", __name__, "/audit")
PAGE_SIZE = 50

ACTION_LABELS = {
    "organization.created": _l("Organization created"),
    "organization.updated": _l("Settings changed"),
    "cycle.created": _l("Bottleneck named"),
    "cycle.bottleneck_updated": _l("Bottleneck changed"),
    "cycle.baseline_updated": _l("Status quo changed"),
    "cycle.process_updated": _l("Process steps changed"),
    "cycle.solution_updated": _l("Solution changed"),
    "cycle.prototype_updated": _l("Prototype changed"),
    "cycle.stage_changed": _l("Stage changed"),
    "cycle.decided": _l("Decision made"),
    "cycle.deleted": _l("Cycle deleted"),
    "cycle_template.created": _l("Template saved"),
    "cycle_template.deleted": _l("Template deleted"),
    "measurement.added": _l("Measurement added"),
    "measurement.updated": _l("Measurement changed"),
    "measurement.deleted": _l("Measurement deleted"),
    "consulting.access_granted": _l("Consultancy access granted"),
    "consulting.access_changed": _l("Consultancy access changed"),
    "consulting.access_revoked": _l("Consultancy access revoked"),
    "consulting.access_requested": _l("Consultancy access requested"),
    "consulting.request_declined": _l("Access request declined"),
    "consulting.code_regenerated": _l("New invitation code"),
    "member.invited": _l("Person invited"),
    "invitation.resent": _l("Invitation sent again"),
    "invitation.cancelled": _l("Invitation withdrawn"),
    "invitation.accepted": _l("Invitation accepted"),
    "member.role_changed": _l("Role changed"),
    "member.removed": _l("Member removed"),
    "member.left": _l("Member left"),
    "ownership.transferred": _l("Ownership transferred"),
    "cycles.exported": _l("Cycles exported"),
    "data_export.requested": _l("Data export requested"),
    "data_export.downloaded": _l("Data export downloaded"),
}


def _day_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "")[:10])
    except ValueError:
        return None


def _start_of(day: date) -> datetime:
    """Midnight of ``day`` where the reader is: the log's dates are shown in their time zone."""
    zone = get_timezone()
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(getattr(zone, "zone", None) or str(zone)))


@bp.route("/")
@require_permission(Action.view_audit_log)
def index() -> str:
    page = request.args.get("page", 1, type=int)
    page = max(1, min(page, 10_000))
    via = aliased(Organization)
    stmt = (
        select(AuditEvent, User, via.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(via, via.id == AuditEvent.via_organization_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    )
    action = request.args.get("action", "")[:64]
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    actor = request.args.get("actor", 0, type=int)
    if actor:
        stmt = stmt.where(AuditEvent.actor_id == actor)
    consultants = request.args.get("consultants") == "1"
    if consultants:
        stmt = stmt.where(AuditEvent.via_organization_id.is_not(None))
    since, until = _day_arg("from"), _day_arg("to")
    if since is not None:
        stmt = stmt.where(AuditEvent.created_at >= _start_of(since))
    if until is not None:
        stmt = stmt.where(AuditEvent.created_at < _start_of(until + timedelta(days=1)))
    rows = db.session.execute(stmt).all()
    # Everyone who appears in this organization's log, for the "who" filter: members and consultants alike.
    actors = db.session.scalars(
        select(User).where(User.id.in_(select(AuditEvent.actor_id).distinct())).order_by(User.name)
    ).all()
    filters: dict[str, Any] = {
        "action": action or None,
        "actor": actor or None,
        "consultants": "1" if consultants else None,
        "from": since.isoformat() if since else None,
        "to": until.isoformat() if until else None,
    }
    return render_template(
        "audit/index.html",
        rows=rows[:PAGE_SIZE],
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        action=action,
        actor=actor,
        consultants=consultants,
        since=since,
        until=until,
        actors=actors,
        filters=filters,
        action_labels=ACTION_LABELS,
    )
