"""Recording audit events inside the caller's transaction."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, scoped_session

from engpass import tenancy
from engpass.audit import actions
from engpass.audit.models import AuditEvent

# session.info key: (client id, consultancy id) while a consultant works inside a client.
VIA_KEY = "engpass.audit.via"


def acting_via(session: Session | scoped_session[Session], client_id: int, consultancy_id: int) -> None:
    """From now on, events this session records in ``client_id`` name the consultancy the actor came
    through. Kept on the session, so it ends with the request's (or task's) session."""
    session.info[VIA_KEY] = (client_id, consultancy_id)


def audit_value(value: Any) -> Any:
    """A field's value as the audit log keeps it in JSON: amounts and days as text, codes by their value, an
    empty field as null (so the log can say "removed", never "None")."""
    if isinstance(value, Decimal | date):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def apply_changes(row: Any, fields: Iterable[str], data: dict[str, Any]) -> dict[str, list[Any]]:
    """Set those of ``fields`` that ``data`` names on ``row`` (text stripped); what changed as
    {field: [old, new]} in the audit log's values, for the caller's event."""
    changes = {}
    for name in fields:
        if name not in data:
            continue
        old, new = getattr(row, name), data[name]
        if isinstance(new, str):
            new = new.strip()
        if old != new:
            changes[name] = [audit_value(old), audit_value(new)]
            setattr(row, name, new)
    return changes


def record(
    session: Session | scoped_session[Session],
    action: str,
    *,
    actor_id: int | None,
    object_type: str | None = None,
    object_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    actions.check(action, set(details))
    event = AuditEvent(action=action, actor_id=actor_id, object_type=object_type, object_id=object_id, details=details)
    via = session.info.get(VIA_KEY)
    if via is not None and via[0] == tenancy.current_org_id():
        event.via_organization_id = via[1]
    session.add(event)
    return event
