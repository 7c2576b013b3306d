"""The organization's audit log, for its admins: filterable by who, what, consultants and dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template, request
from flask_babel import get_timezone
from sqlalchemy import select
from sqlalchemy.orm import aliased

from engpass.accounts.models import User
from engpass.audit.actions import ACTIONS
from engpass.audit.describe import describe, people_named
from engpass.audit.models import AuditEvent
from engpass.db import db
from engpass.gateway.web import org_blueprint
from engpass.organizations.context import current_org
from engpass.organizations.models import Organization
from engpass.organizations.permissions import Action, require_permission

bp = org_blueprint("audit", __name__, "/audit")
PAGE_SIZE = 50

ACTION_LABELS = {action: kind.label for action, kind in ACTIONS.items()}


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
    shown = rows[:PAGE_SIZE]
    named = people_named([event for event, _person, _via in shown])
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(named))).tuples()) if named else {}
    return render_template(
        "audit/index.html",
        rows=[(event, person, via, describe(event, names, current_org.currency)) for event, person, via in shown],
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
