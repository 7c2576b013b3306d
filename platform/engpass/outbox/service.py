"""Recording work for the workers and relaying it to the broker after the transaction commits.

``engpass`` never imports ``workers``: work is named by task name. A message is
written in the caller's transaction, so it exists exactly when the change that caused
it exists; the relay hands it to Celery right after the commit and again from the
periodic sweep if the broker was unreachable, so a broker outage delays work but
loses none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from flask import current_app, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from engpass.db import db, utcnow
from engpass.outbox.models import OutboxMessage
from engpass.tenancy import current_org_id

log = logging.getLogger(__name__)

PENDING_IDS_KEY = "engpass.outbox.pending_ids"
EXTENSION_KEY = "engpass.outbox.publisher"


class Publisher(Protocol):
    def __call__(self, task_name: str, kwargs: dict[str, Any], message_id: str) -> None: ...


def enqueue(session: Session, task_name: str, **kwargs: Any) -> OutboxMessage:
    """Record work for ``task_name``; the current organization (if any) is passed as ``org_id``."""
    org_id = current_org_id()
    payload = dict(kwargs)
    if org_id is not None:
        payload.setdefault("org_id", org_id)
    message = OutboxMessage(organization_id=payload.get("org_id"), task_name=task_name, kwargs=payload)
    session.add(message)
    session.flush()
    session.info.setdefault(PENDING_IDS_KEY, []).append(message.id)
    return message


@dataclass
class RelayResult:
    published: int = 0
    failed: int = 0


def relay(
    session: Session,
    publish: Publisher,
    *,
    ids: Iterable[int] | None = None,
    older_than: timedelta | None = None,
    limit: int = 500,
) -> RelayResult:
    """Publish pending messages, oldest first; stop at the first broker failure."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.relayed_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        stmt = stmt.where(OutboxMessage.id.in_(list(ids)))
    if older_than is not None:
        stmt = stmt.where(OutboxMessage.created_at <= utcnow() - older_than)
    result = RelayResult()
    for message in session.scalars(stmt).all():
        try:
            publish(message.task_name, message.kwargs, f"outbox-{message.id}")
        except Exception as exc:  # the broker's errors are many and transport-specific
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            result.failed += 1
            log.warning("outbox relay failed for message %s: %s", message.id, exc)
            break
        message.relayed_at = utcnow()
        result.published += 1
    session.commit()
    return result


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(OutboxMessage.relayed_at.is_(None))) or 0


def _relay_after_commit(session: Session) -> None:
    """Relay what this transaction enqueued, in a session of its own."""
    ids = session.info.pop(PENDING_IDS_KEY, None)
    if not ids or not has_app_context():
        return
    publish = current_app.extensions.get(EXTENSION_KEY)
    if publish is None:
        return
    relay_session = db.factory()
    try:
        relay(relay_session, publish, ids=ids)
    except Exception:  # never fail the request that already committed; the sweep retries
        log.exception("outbox relay after commit failed")
        relay_session.rollback()
    finally:
        relay_session.close()


def forget_pending(session: Session) -> None:
    """After a rollback the recorded ids no longer exist."""
    session.info.pop(PENDING_IDS_KEY, None)


def install_relay_hooks() -> None:
    """Relay after every commit of the platform's sessions; safe to call once per app."""
    if not event.contains(db.factory, "after_commit", _relay_after_commit):
        event.listen(db.factory, "after_commit", _relay_after_commit)
        event.listen(db.factory, "after_rollback", forget_pending)
