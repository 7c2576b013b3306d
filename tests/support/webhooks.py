"""Webhook endpoints and their deliveries for tests."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from engpass.webhooks import endpoints
from engpass.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent


def add_endpoint(session: Any, settings: Any, url: str, events: list[str], actor_id: int | None = None) -> Any:
    """An endpoint in the current organization, committed: (endpoint, secret)."""
    endpoint, secret = endpoints.create_endpoint(
        session, endpoints.EndpointInput(url, "Test", events, True), settings, actor_id
    )
    session.commit()
    return endpoint, secret


def deliveries(session: Any) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def webhook_with_a_delivery(
    session: Any, endpoint: WebhookEndpoint | None = None
) -> tuple[WebhookEndpoint, WebhookDelivery]:
    """An endpoint on a public address in the current organization (or ``endpoint``), with one more failed
    delivery (flushed, not committed): what the pages' walks need without a settings object."""
    if endpoint is None:
        endpoint = WebhookEndpoint(url="https://93.184.215.14/hook", events=["cycle.created"], secret_sealed="sealed")
        session.add(endpoint)
    event = WebhookEvent(
        message_id=f"msg_walk_{uuid.uuid4().hex[:8]}", type="cycle.created", payload={"type": "cycle.created"}
    )
    session.add(event)
    session.flush()
    webhook_delivery = WebhookDelivery(
        endpoint_id=endpoint.id, event_id=event.id, status=DeliveryStatus.failed, attempts=1, last_error="HTTP 400"
    )
    session.add(webhook_delivery)
    session.flush()
    return endpoint, webhook_delivery
