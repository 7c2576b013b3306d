"""The organization's audit log, for its admins."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from engpass.accounts.models import User
from engpass.audit.models import AuditEvent
from engpass.db import db
from engpass.organizations.context import org_blueprint
from engpass.organizations.permissions import Action, require_permission

bp = org_blueprint("audit", __name__, "/audit")
PAGE_SIZE = 50


@bp.route("/")
@require_permission(Action.view_audit_log)
def index() -> str:
    page = request.args.get("page", 1, type=int)
    page = max(1, min(page, 10_000))
    stmt = (
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    )
    action = request.args.get("action", "")[:64]
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    rows = db.session.execute(stmt).all()
    return render_template(
        "audit/index.html", rows=rows[:PAGE_SIZE], page=page, has_next=len(rows) > PAGE_SIZE, action=action
    )
