"""Delivering one event to one endpoint, exactly once from our side.

1. ``claim`` takes the delivery with a lease (one conditional UPDATE, **committed**): of two workers exactly
   one gets it; a worker that dies holding it loses it when the lease expires, and the next claim takes it over.
2. ``attempt`` checks the target again (``targets.resolve``), signs the event's fixed body with the endpoint's
   secrets and POSTs it to the checked address (``transport.post``). Every attempt carries the event's
   ``webhook-id``, so a receiver that got an attempt whose answer we never saw can drop the repeat.
3. ``record_outcome`` writes the outcome only if the claim is still the caller's (same ``attempts``), and commits:
   a success is recorded once. Network errors, 408, 429 and 5xx are tried again after an exponential backoff
   (or the receiver's ``Retry-After`` when longer); any other answer, a refused target, or ``MAX_ATTEMPTS``
   attempts give up with the reason in the delivery log.

A Teams or Slack channel gets the same path with a different body: the event's message as an Adaptive Card or
Block Kit (``chat_messages``, ``cards``) in the organization's language, unsigned; its refusals ("invalid_token",
"channel_not_found") are the reason in the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from engpass.audit.service import record
from engpass.db import utcnow
from engpass.organizations.models import Organization
from engpass.settings import Settings
from engpass.webhooks import cards, signing, transport
from engpass.webhooks.chat_messages import compose
from engpass.webhooks.endpoints import secrets_in_use
from engpass.webhooks.models import (
    CHAT_KINDS,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    as_utc,
)
from engpass.webhooks.targets import TargetRefused, TargetUnresolved, resolve

# Longer than an attempt can take (5 s to connect, 5 s per read), shorter than anyone waits for a retry.
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
# After the n-th failed attempt: 30 s × 2^(n-1), at most 6 hours; the eighth attempt comes about 1 h 4 min
# after the first.
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
RETRYABLE_STATUS = frozenset({408, 425, 429})
ERROR_MAX = 500


def backoff(attempts: int) -> timedelta:
    return min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """The receiver's ``Retry-After`` (seconds or an HTTP date) as a delay, at most ``MAX_DELAY``."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(timedelta(seconds=int(text)), MAX_DELAY)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return min(max(as_utc(moment) - now, timedelta(0)), MAX_DELAY)


def _claimable(now: datetime) -> object:
    return or_(
        and_(
            WebhookDelivery.status.in_((DeliveryStatus.pending, DeliveryStatus.retry)),
            WebhookDelivery.next_attempt_at <= now,
        ),
        and_(WebhookDelivery.status == DeliveryStatus.delivering, WebhookDelivery.lease_until <= now),
    )


def claim(session: Session, delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """The delivery, held by the caller until its lease ends; None when it is not due or somebody holds it.
    Commits."""
    now = now or utcnow()
    taken = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, _claimable(now), WebhookDelivery.attempts < MAX_ATTEMPTS)
        .values(
            status=DeliveryStatus.delivering,
            lease_until=now + LEASE,
            attempts=WebhookDelivery.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if taken.rowcount != 1:
        return None
    return session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).execution_options(populate_existing=True)
    ).one()


@dataclass(frozen=True)
class Outcome:
    status: DeliveryStatus
    status_code: int | None = None
    response: str | None = None
    error: str | None = None
    delay: timedelta | None = None


def attempt(session: Session, delivery: WebhookDelivery, settings: Settings, now: datetime) -> Outcome:
    """One POST of the delivery's event to its endpoint, and what it came to. Sends nothing when the endpoint
    is disabled or its secret cannot be unsealed."""
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    event = session.get(WebhookEvent, delivery.event_id)
    if endpoint is None or event is None:
        return Outcome(DeliveryStatus.failed, error="the endpoint or the event was deleted")
    if not endpoint.enabled:
        return Outcome(DeliveryStatus.failed, error="the endpoint is disabled")
    chat = endpoint.kind in CHAT_KINDS
    secrets = [] if chat else secrets_in_use(endpoint, settings.secret_key, now)
    if not chat and not secrets:
        return Outcome(DeliveryStatus.failed, error="the signing secret cannot be read: rotate it")
    try:
        target = resolve(
            endpoint.url,
            allow_http=settings.webhooks_allow_http,
            allow_private=settings.webhooks_allow_private_targets,
        )
    except TargetRefused as exc:
        return Outcome(DeliveryStatus.failed, error=f"target refused: {exc}")
    except TargetUnresolved as exc:
        return Outcome(DeliveryStatus.retry, error=str(exc), delay=backoff(delivery.attempts))
    if chat:
        body, headers = _chat_body(session, endpoint, event), {}
    else:
        body = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False).encode()
        # The signature's time is the clock's, never the schedule's: receivers refuse old timestamps.
        headers = signing.headers(secrets, event.message_id, int(utcnow().timestamp()), body)
    try:
        answer = transport.post(target, body, headers)
    except transport.NetworkError as exc:
        return Outcome(DeliveryStatus.retry, error=str(exc), delay=backoff(delivery.attempts))
    if 200 <= answer.status < 300:
        return Outcome(DeliveryStatus.delivered, answer.status, answer.excerpt)
    if answer.status in RETRYABLE_STATUS or answer.status >= 500:
        wait = max(backoff(delivery.attempts), retry_after(answer.retry_after, now) or timedelta(0))
        return Outcome(DeliveryStatus.retry, answer.status, answer.excerpt, f"HTTP {answer.status}", wait)
    if chat and answer.excerpt.strip():
        # Slack and Teams say why in the body ("channel_not_found"): that is the reason people need.
        reason = f"HTTP {answer.status}: {answer.excerpt.strip()}"
        return Outcome(DeliveryStatus.failed, answer.status, answer.excerpt, reason)
    return Outcome(DeliveryStatus.failed, answer.status, answer.excerpt, f"HTTP {answer.status}: not retried")


def _chat_body(session: Session, endpoint: WebhookEndpoint, event: WebhookEvent) -> bytes:
    org = session.get(Organization, endpoint.organization_id)
    message = compose(event.payload, org.locale if org is not None else "de")
    return json.dumps(cards.BUILDERS[endpoint.kind](message), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Delivered:
    status: DeliveryStatus | None
    next_attempt_at: datetime | None = None


def record_outcome(session: Session, delivery: WebhookDelivery, outcome: Outcome, now: datetime) -> Delivered:
    """Write the outcome if the caller still holds the claim (status None when it does not). Commits."""
    status, next_at, error = outcome.status, None, outcome.error
    if status == DeliveryStatus.retry:
        if delivery.attempts >= MAX_ATTEMPTS:
            status, error = DeliveryStatus.failed, f"gave up after {delivery.attempts} attempts: {error}"
        else:
            next_at = now + (outcome.delay or backoff(delivery.attempts))
    written = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery.id,
            WebhookDelivery.status == DeliveryStatus.delivering,
            WebhookDelivery.attempts == delivery.attempts,
        )
        .values(
            status=status,
            lease_until=None,
            next_attempt_at=next_at,
            last_status_code=outcome.status_code,
            last_response=(outcome.response or "")[:ERROR_MAX] or None,
            last_error=error[:ERROR_MAX] if error else None,
            delivered_at=now if status == DeliveryStatus.delivered else None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return Delivered(status, next_at) if written.rowcount == 1 else Delivered(None)


def deliver(session: Session, delivery_id: int, settings: Settings, now: datetime | None = None) -> Delivered:
    """Claim, attempt and record one delivery in the current organization. ``status`` None: not due, held by
    another worker, or taken over meanwhile — nothing was recorded by this call."""
    now = now or utcnow()
    delivery = claim(session, delivery_id, now)
    if delivery is None:
        return Delivered(None)
    return record_outcome(session, delivery, attempt(session, delivery, settings, now), now)


def due(session: Session, now: datetime | None = None) -> list[int]:
    """The current organization's deliveries due now: a retry whose time has come, a pending one nothing took
    (its message was lost), a claim whose worker died. Claims that died on their last attempt fail here."""
    now = now or utcnow()
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.status == DeliveryStatus.delivering,
            WebhookDelivery.lease_until <= now,
            WebhookDelivery.attempts >= MAX_ATTEMPTS,
        )
        .values(
            status=DeliveryStatus.failed,
            lease_until=None,
            last_error=f"gave up after {MAX_ATTEMPTS} attempts: the worker stopped during the last one",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    ids = list(session.scalars(select(WebhookDelivery.id).where(_claimable(now)).order_by(WebhookDelivery.id)))
    session.commit()
    return ids


class NotRedeliverable(ValueError):
    """A delivery a worker is attempting right now."""


def redeliver(session: Session, delivery: WebhookDelivery, actor_id: int | None, now: datetime | None = None) -> None:
    """Send a delivery again with fresh attempts and the same ``webhook-id`` (the caller enqueues the task
    and commits). Refused while a worker holds it."""
    now = now or utcnow()
    if delivery.status == DeliveryStatus.delivering and delivery.lease_until and as_utc(delivery.lease_until) > now:
        raise NotRedeliverable(delivery.id)
    delivery.status = DeliveryStatus.pending
    delivery.attempts = 0
    delivery.lease_until = None
    delivery.next_attempt_at = now
    delivery.delivered_at = None
    record(
        session,
        "webhook.redelivered",
        actor_id=actor_id,
        object_type="webhook",
        object_id=delivery.endpoint_id,
        delivery_id=delivery.id,
    )


def log(session: Session, endpoint_id: int, limit: int = 50) -> list[tuple[WebhookDelivery, WebhookEvent]]:
    """The endpoint's latest deliveries with their events, newest first; one query."""
    stmt = (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    )
    return [(delivery, event) for delivery, event in session.execute(stmt)]
