"""An organization's webhook endpoints, the events its cycles emitted and one delivery per endpoint and event."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engpass.db import Base, string_enum, utcnow
from engpass.tenancy import TenantScoped

URL_MAX = 2000
DESCRIPTION_MAX = 200


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they are UTC like everything stored here."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class EndpointKind(enum.StrEnum):
    webhook = "webhook"  # signed JSON per Standard Webhooks, for integrators
    teams = "teams"  # a Microsoft Teams workflow webhook: an Adaptive Card, unsigned
    slack = "slack"  # a Slack incoming webhook: Block Kit, unsigned


CHAT_KINDS = frozenset({EndpointKind.teams, EndpointKind.slack})


class WebhookEndpoint(TenantScoped, Base):
    """Where an organization wants its events: a URL, the event types, and the signing secret sealed at rest
    (``engpass.sealed``, purpose ``webhook``). After a rotation the previous secret keeps signing beside the
    new one until ``previous_secret_until``, so receivers can switch without losing a message. A chat channel
    (``kind`` teams or slack) gets a message instead of the event's JSON, unsigned: its secret is kept only so
    every endpoint has one."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_MAX))
    kind: Mapped[EndpointKind] = mapped_column(
        string_enum(EndpointKind, "webhook_endpoint_kind"), default=EndpointKind.webhook, server_default="webhook"
    )
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), default="")
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    secret_sealed: Mapped[str] = mapped_column(Text)
    previous_secret_sealed: Mapped[str | None] = mapped_column(Text)
    previous_secret_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookEvent(TenantScoped, Base):
    """Something that happened, written in the transaction of the change itself (transactional outbox).
    ``message_id`` is the ``webhook-id`` every delivery of it carries on every attempt, so a receiver can
    drop a repeat; ``payload`` is the JSON body, fixed when the event happened."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # waiting for its first attempt
    delivering = "delivering"  # a worker holds it until ``lease_until``
    retry = "retry"  # failed for a reason that may pass; due again at ``next_attempt_at``
    delivered = "delivered"  # the receiver answered 2xx
    failed = "failed"  # given up: ``last_error`` says why


class WebhookDelivery(TenantScoped, Base):
    """One event to one endpoint: claimed with a lease, attempted, its outcome recorded once."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        # The endpoint's delivery log, newest first, and the sweep's due rows.
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        string_enum(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.pending
    )
    # Claims so far, and the claim's generation: a worker whose lease was taken over records nothing.
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    last_status_code: Mapped[int | None]
    last_response: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
