"""Delivering webhooks: one task per delivery (and per retry, with its countdown), and the sweep for
deliveries whose message was lost or whose worker died (docs/webhooks.md)."""

from __future__ import annotations

from celery import current_app, shared_task
from flask import current_app as flask_app
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from engpass import task_names, tenancy
from engpass.db import db, utcnow
from engpass.organizations.models import Organization
from engpass.webhooks.delivery import DeliveryStatus, deliver, due


@shared_task(name=task_names.DELIVER_WEBHOOK, autoretry_for=(OperationalError,), max_retries=5, retry_backoff=30)
def deliver_webhook(org_id: int, delivery_id: int) -> str | None:
    """One attempt; a retry is sent to the broker with its countdown. Redelivered or doubled messages are
    harmless: only the claim's holder attempts, and only once per claim."""
    settings = flask_app.extensions["engpass.settings"]
    result = deliver(db.session(), delivery_id, settings)
    if result.status == DeliveryStatus.retry and result.next_attempt_at is not None:
        countdown = max((result.next_attempt_at - utcnow()).total_seconds(), 0)
        current_app.send_task(
            task_names.DELIVER_WEBHOOK, kwargs={"org_id": org_id, "delivery_id": delivery_id}, countdown=countdown
        )
    return None if result.status is None else result.status.value


@shared_task(name=task_names.SWEEP_WEBHOOKS)
def sweep_webhooks() -> int:
    """Every organization's due deliveries, each sent as a task: what a lost message, a broker restart or a
    killed worker left behind. One query per organization."""
    session = db.session()
    sent = 0
    for org_id in list(session.scalars(select(Organization.id).order_by(Organization.id))):
        with tenancy.tenant_context(session, org_id):
            ids = due(session)
        session.expunge_all()
        for delivery_id in ids:
            current_app.send_task(task_names.DELIVER_WEBHOOK, kwargs={"org_id": org_id, "delivery_id": delivery_id})
        sent += len(ids)
    return sent
