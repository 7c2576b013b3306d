"""The events the cycles emit, written in the transaction of the change (a transactional outbox).

``emit`` is called by ``cycles.service`` — never by a view — so the web, the API, the imports and the CLI emit
the same events. With no enabled endpoint subscribed to the type, it costs one query and writes nothing.
Otherwise it writes the event (its payload fixed now), one delivery per subscribed endpoint, and one outbox
message per delivery: the workers deliver exactly when the change commits, and nothing if it rolls back.

The payload (docs/webhooks.md): ``{"type": …, "timestamp": …, "data": …}``; ``data`` is ``cycle`` or
``measurement`` below, with the field names and formats of the API's documents (decimals as strings, days and
moments in ISO 8601, moments in UTC).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engpass import task_names
from engpass.cycles.models import Cycle, Measurement
from engpass.db import utcnow
from engpass.notifications.links import external_url
from engpass.organizations.models import Organization
from engpass.outbox.service import enqueue
from engpass.tenancy import require_org_id
from engpass.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


class EventType(enum.StrEnum):
    """What happened, as a receiver reads it in ``type`` (one schema of these codes in the API's document)."""

    cycle_created = "cycle.created"
    cycle_updated = "cycle.updated"
    cycle_stage_changed = "cycle.stage_changed"
    cycle_deleted = "cycle.deleted"
    decision_recorded = "decision.recorded"
    measurement_created = "measurement.created"
    measurement_updated = "measurement.updated"
    measurement_deleted = "measurement.deleted"
    reminders_overdue = "reminders.overdue"
    digest_weekly = "digest.weekly"


EVENT_TYPES: tuple[str, ...] = tuple(event_type.value for event_type in EventType)

# What a Teams or Slack channel can be told: the moments people talk about, not every edit.
CHAT_EVENT_TYPES: tuple[str, ...] = (
    "cycle.stage_changed",
    "decision.recorded",
    "reminders.overdue",
    "digest.weekly",
)

CYCLE_FIELDS = (
    "id",
    "title",
    "category",
    "why",
    "stage",
    "owner_id",
    "previous_cycle_id",
    "kpi_name",
    "kpi_unit",
    "kpi_baseline",
    "kpi_target",
    "prototype_start",
    "prototype_target",
    "decision",
    "decision_reason",
    "created_at",
    "updated_at",
)
MEASUREMENT_FIELDS = (
    "id",
    "cycle_id",
    "measured_on",
    "kpi_value",
    "hours_per_week",
    "cost_per_week",
    "note",
    "created_by_id",
    "created_at",
)


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z") if value.tzinfo else value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def cycle_data(session: Session, cycle: Cycle) -> dict[str, Any]:
    org = session.get(Organization, cycle.organization_id)
    data = {name: json_value(getattr(cycle, name)) for name in CYCLE_FIELDS}
    if org is not None:
        data["currency"] = org.currency
        data["web_url"] = external_url(
            current_app.extensions["engpass.settings"], "cycles.show", org_slug=org.slug, cycle_id=cycle.id
        )
    return data


def measurement_data(session: Session, measurement: Measurement) -> dict[str, Any]:
    org = session.get(Organization, measurement.organization_id)
    data = {name: json_value(getattr(measurement, name)) for name in MEASUREMENT_FIELDS}
    data["currency"] = org.currency if org is not None else None
    return data


def subscribed(session: Session, event_type: str) -> list[WebhookEndpoint]:
    endpoints = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True)))
    return [endpoint for endpoint in endpoints if event_type in endpoint.events]


def subscribed_organizations(session: Session, event_type: str) -> set[int]:
    """Which of the organizations the session may read (``tenancy.reading``) have an endpoint for ``event_type``,
    in one query."""
    rows = session.execute(
        select(WebhookEndpoint.organization_id, WebhookEndpoint.events).where(WebhookEndpoint.enabled.is_(True))
    )
    return {org_id for org_id, events in rows if event_type in events}


def emit(
    session: Session,
    event_type: str,
    *,
    cycle: Cycle | None = None,
    measurement: Measurement | None = None,
    extra: dict[str, Any] | None = None,
) -> WebhookEvent | None:
    """Record ``event_type`` about ``cycle`` or ``measurement`` (plus ``extra`` in its data) in the current
    organization, for every endpoint subscribed to it; the data is built only when someone listens."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    require_org_id()
    endpoints = subscribed(session, event_type)
    if not endpoints:
        return None
    data = cycle_data(session, cycle) if cycle is not None else measurement_data(session, measurement)
    data.update(extra or {})
    now = utcnow()
    event = WebhookEvent(
        message_id=f"msg_{uuid.uuid4().hex}",
        type=event_type,
        payload={"type": event_type, "timestamp": json_value(now), "data": data},
        created_at=now,
    )
    session.add(event)
    session.flush()
    _deliver(session, event, endpoints)
    return event


def _deliver(session: Session, event: WebhookEvent, endpoints: list[WebhookEndpoint]) -> None:
    now = event.created_at
    deliveries = [WebhookDelivery(endpoint_id=e.id, event_id=event.id, next_attempt_at=now) for e in endpoints]
    session.add_all(deliveries)
    session.flush()
    for delivery in deliveries:
        enqueue(session, task_names.DELIVER_WEBHOOK, delivery_id=delivery.id)


def periodic_message_id(event_type: str, org_id: int, period: str) -> str:
    """The one ``message_id`` of an organization's event for a day or a week: a second run finds it taken."""
    return f"msg_{uuid.uuid5(uuid.NAMESPACE_URL, f'engpass:{event_type}:{org_id}:{period}').hex}"


def emit_once(
    session: Session, event_type: str, period: str, build: Callable[[], dict[str, Any]]
) -> WebhookEvent | None:
    """Record the current organization's ``event_type`` for ``period`` (a day or an ISO week) unless a run wrote
    it before; ``build`` makes its data, only when someone listens. Runs in a savepoint: a run that wrote the
    same event meanwhile (the unique ``message_id``) leaves this one nothing to do, and the caller's work stands."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    message_id = periodic_message_id(event_type, require_org_id(), period)
    endpoints = subscribed(session, event_type)
    if not endpoints or session.scalar(select(WebhookEvent.id).where(WebhookEvent.message_id == message_id)):
        return None
    now = utcnow()
    event = WebhookEvent(
        message_id=message_id,
        type=event_type,
        payload={"type": event_type, "timestamp": json_value(now), "data": {"period": period, **build()}},
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        return None
    _deliver(session, event, endpoints)
    return event
