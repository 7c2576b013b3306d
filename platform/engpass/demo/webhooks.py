"""The demo company's webhook to its ERP, paused (its address resolves nowhere), with a short delivery log:
one delivered, one given up; and its Slack channel for decisions, stage changes, the overdue list and the weekly
summary, paused too, whose last
message Slack refused ("channel_not_found")."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.db import utcnow
from engpass.sealed import seal
from engpass.webhooks import signing
from engpass.webhooks.endpoints import PURPOSE
from engpass.webhooks.models import DeliveryStatus, EndpointKind, WebhookDelivery, WebhookEndpoint, WebhookEvent

DEMO_WEBHOOK_ORG = "Müller Metallbau GmbH"
# A name that resolves nowhere: the demo's deliveries never leave the machine.
DEMO_URL = "https://erp.mueller-metallbau.example/engpass/webhook"
DEMO_SLACK_URL = "https://hooks.slack.example/services/T000/B000/demo"


def add_demo_webhook(session: Session, secret_key: str) -> None:
    """Once, in the current organization: a later run finds the endpoint and leaves it alone."""
    if session.scalar(select(WebhookEndpoint.id).limit(1)) is not None:
        return
    endpoint = WebhookEndpoint(
        url=DEMO_URL,
        description="ERP: Projektkosten",
        enabled=False,
        events=["cycle.stage_changed", "decision.recorded", "measurement.created"],
        secret_sealed=seal(PURPOSE, secret_key, signing.new_secret()),
    )
    slack = WebhookEndpoint(
        url=DEMO_SLACK_URL,
        kind=EndpointKind.slack,
        description="#verbesserung",
        enabled=False,
        events=["cycle.stage_changed", "decision.recorded", "reminders.overdue", "digest.weekly"],
        secret_sealed=seal(PURPOSE, secret_key, signing.new_secret()),
    )
    session.add_all([endpoint, slack])
    session.flush()
    now = utcnow()
    outcomes = [
        (endpoint, "decision.recorded", DeliveryStatus.delivered, 1, 200, "ok", None),
        (
            endpoint,
            "measurement.created",
            DeliveryStatus.failed,
            8,
            503,
            "Service Unavailable",
            "gave up after 8 attempts: HTTP 503",
        ),
        (slack, "decision.recorded", DeliveryStatus.failed, 1, 404, "channel_not_found", "HTTP 404: channel_not_found"),
    ]
    for number, (target, event_type, status, attempts, code, answer, error) in enumerate(outcomes):
        moment = now - timedelta(days=2 - number)
        event = WebhookEvent(
            message_id=f"msg_demo{number}",
            type=event_type,
            payload={"type": event_type, "timestamp": moment.isoformat(), "data": {}},
            created_at=moment,
        )
        session.add(event)
        session.flush()
        session.add(
            WebhookDelivery(
                endpoint_id=target.id,
                event_id=event.id,
                status=status,
                attempts=attempts,
                next_attempt_at=None,
                last_status_code=code,
                last_response=answer,
                last_error=error,
                delivered_at=moment if status == DeliveryStatus.delivered else None,
                created_at=moment,
            )
        )
    session.flush()
