"""Recording audit events inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engpass.audit.models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None,
    object_type: str | None = None,
    object_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(action=action, actor_id=actor_id, object_type=object_type, object_id=object_id, details=details)
    session.add(event)
    return event
