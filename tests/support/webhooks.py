"""Webhook endpoints and their deliveries for tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engpass.webhooks import endpoints
from engpass.webhooks.models import WebhookDelivery


def add_endpoint(session: Any, settings: Any, url: str, events: list[str], actor_id: int | None = None) -> Any:
    """An endpoint in the current organization, committed: (endpoint, secret)."""
    endpoint, secret = endpoints.create_endpoint(
        session, endpoints.EndpointInput(url, "Test", events, True), settings, actor_id
    )
    session.commit()
    return endpoint, secret


def deliveries(session: Any) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
