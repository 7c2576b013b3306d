"""A person's own data as one JSON document (the right of access and to data portability, Art. 15 and 20).

What is theirs: the profile, their memberships and roles, their e-mail settings and the send log of
the mails sent to them, their security log (sign-ins and protection changes, networks only), and — in
each organization they belong to — what they did there: the cycles they are responsible for or started,
the measurements they recorded, the stage changes they made, the bottleneck candidates they proposed, the
audit events they caused, the invitations they sent and accepted, their API tokens (name, last characters,
dates — never the hash).
Never another person's data: an invitation they sent says when and with which role, not to whom, and
audit details that name someone else's address leave it out. Credentials (the password hash, the
session token, the TOTP secret and the recovery codes' hashes) are no data about them and stay out too;
when two-factor authentication was switched on is in.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.models import SecurityEvent, User
from engpass.audit.models import AuditEvent
from engpass.candidates.models import Candidate
from engpass.cycles.models import Cycle, Measurement, StageChange
from engpass.db import utcnow
from engpass.notifications.models import SendLog
from engpass.notifications.preferences import EDITABLE, preferences_of
from engpass.organizations.models import Membership, Organization
from engpass.team.models import Invitation
from engpass.tokens.models import ApiToken

FORMAT = "engpass.personal-data/1"


def export_user_data(session: Session, user: User) -> dict[str, Any]:
    """Everything listed above, as plain JSON values; a handful of queries per organization."""
    preferences = preferences_of(session, user)
    memberships = session.execute(
        select(Membership, Organization)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user.id)
        .order_by(Organization.name, Organization.id)
    ).all()
    send_log = session.scalars(select(SendLog).where(SendLog.user_id == user.id).order_by(SendLog.created_at))
    security_events = session.scalars(
        select(SecurityEvent).where(SecurityEvent.user_id == user.id).order_by(SecurityEvent.created_at)
    )
    data: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": utcnow(),
        "profile": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "language": user.locale,
            "timezone": user.timezone,
            "created_at": user.created_at,
            "password_changed_at": user.password_changed_at,
            "two_factor_enabled_at": user.two_factor_enabled_at,
        },
        "notification_preferences": {name: getattr(preferences, name) for name in EDITABLE},
        "emails_sent": [
            {
                "kind": entry.kind,
                "period": entry.period,
                "status": entry.status,
                "attempts": entry.attempts,
                "created_at": entry.created_at,
                "sent_at": entry.sent_at,
                "last_error": entry.last_error,
            }
            for entry in send_log
        ],
        "security_events": [
            {"kind": event.kind, "network": event.network, "created_at": event.created_at} for event in security_events
        ],
        "organizations": [],
    }
    for membership, org in memberships:
        with tenancy.tenant_context(session, org.id):
            entry = {
                "name": org.name,
                "address": org.slug,
                "kind": org.kind,
                "role": membership.role,
                "member_since": membership.created_at,
                "last_visit": membership.last_used_at,
                **_activity(session, user),
            }
        data["organizations"].append(entry)
    return data


def _activity(session: Session, user: User) -> dict[str, Any]:
    """What the user did in the current organization."""
    cycles = session.scalars(
        select(Cycle).where(or_(Cycle.owner_id == user.id, Cycle.created_by_id == user.id)).order_by(Cycle.id)
    )
    measurements = session.execute(
        select(Measurement, Cycle.title)
        .join(Cycle, Cycle.id == Measurement.cycle_id)
        .where(Measurement.created_by_id == user.id)
        .order_by(Measurement.cycle_id, Measurement.measured_on, Measurement.id)
    )
    stage_changes = session.scalars(
        select(StageChange).where(StageChange.actor_id == user.id).order_by(StageChange.created_at, StageChange.id)
    )
    proposed = session.scalars(
        select(Candidate).where(Candidate.proposed_by_id == user.id).order_by(Candidate.created_at, Candidate.id)
    )
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.created_at, AuditEvent.id)
    )
    invitations = list(
        session.scalars(
            select(Invitation)
            .where(or_(Invitation.invited_by_id == user.id, Invitation.accepted_by_id == user.id))
            .order_by(Invitation.created_at, Invitation.id)
        )
    )
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    return {
        "cycles": [
            {
                "id": cycle.id,
                "title": cycle.title,
                "stage": cycle.stage,
                "responsible": cycle.owner_id == user.id,
                "started_by_you": cycle.created_by_id == user.id,
                "created_at": cycle.created_at,
            }
            for cycle in cycles
        ],
        "measurements": [
            {
                "id": m.id,
                "cycle_id": m.cycle_id,
                "cycle_title": title,
                "measured_on": m.measured_on,
                "kpi_value": m.kpi_value,
                "hours_per_week": m.hours_per_week,
                "cost_per_week": m.cost_per_week,
                "note": m.note,
                "created_at": m.created_at,
            }
            for m, title in measurements
        ],
        "stage_changes": [
            {
                "cycle_id": change.cycle_id,
                "from": change.from_stage,
                "to": change.to_stage,
                "backwards": change.backwards,
                "at": change.created_at,
            }
            for change in stage_changes
        ],
        "candidates_proposed": [
            {
                "id": c.id,
                "title": c.title,
                "category": c.category,
                "who_feels_it": c.who_feels_it,
                "description": c.description,
                "hours_per_week": c.hours_per_week,
                "cost_per_week": c.cost_per_week,
                "effort": c.effort,
                "data_available": c.data_available,
                "status": c.status,
                "created_at": c.created_at,
            }
            for c in proposed
        ],
        "audit_events": [
            {
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "details": _own_details(event.details, user),
                "at": event.created_at,
            }
            for event in events
        ],
        "invitations_sent": [
            {"id": i.id, "role": i.role, "created_at": i.created_at, "accepted": i.accepted_at is not None}
            for i in invitations
            if i.invited_by_id == user.id
        ],
        "api_tokens": [
            {
                "name": token.name,
                "ends_with": token.hint,
                "created_at": token.created_at,
                "expires_at": token.expires_at,
                "last_used_at": token.last_used_at,
                "revoked_at": token.revoked_at,
            }
            for token in tokens
        ],
        "invitation_accepted": [
            {"id": i.id, "email": i.email, "role": i.role, "accepted_at": i.accepted_at}
            for i in invitations
            if i.accepted_by_id == user.id
        ],
    }


def _own_details(details: dict[str, Any], user: User) -> dict[str, Any]:
    """An audit event's details without another person's address (whom they invited, say)."""
    return {key: value for key, value in details.items() if key != "email" or str(value).lower() == user.email}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not exported")


def to_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, default=_plain, ensure_ascii=False, indent=2).encode()
