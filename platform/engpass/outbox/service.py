"""Recording work for the workers and relaying it to the broker after the transaction commits.

``engpass`` never imports ``workers``: work is named by task name. A message is
written in the caller's transaction, so it exists exactly when the change that caused
it exists; the relay hands it to Celery right after the commit and again from the
periodic sweep if the broker was unreachable, so a broker outage delays work but
loses none. The Celery task id is ``outbox-<message id>``, the same on every delivery.

Only the outermost commit relays: releasing a savepoint fires ``after_commit`` as well,
but its work is not committed yet, and rolling back a savepoint forgets only the work
recorded inside it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from flask import current_app, has_app_context
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from engpass.db import db, utcnow
from engpass.outbox.models import OutboxMessage
from engpass.tenancy import current_org_id, tenant_context

log = logging.getLogger(__name__)

PENDING_IDS_KEY = "engpass.outbox.pending_ids"
EXTENSION_KEY = "engpass.outbox.publisher"


class Publisher(Protocol):
    def __call__(self, task_name: str, kwargs: dict[str, Any], message_id: str) -> None: ...


def enqueue(session: Session | scoped_session[Session], task_name: str, **kwargs: Any) -> OutboxMessage:
    """Record work for ``task_name``; the current organization (if any) is passed as ``org_id``."""
    if isinstance(session, scoped_session):
        session = session()
    org_id = current_org_id()
    payload = dict(kwargs)
    if org_id is not None:
        payload.setdefault("org_id", org_id)
    message = OutboxMessage(organization_id=payload.get("org_id"), task_name=task_name, kwargs=payload)
    session.add(message)
    session.flush()
    # Remembered with the innermost savepoint, so that rolling back only that savepoint forgets only its work.
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING_IDS_KEY, []).append((transaction, message.id))
    return message


@dataclass
class RelayResult:
    published: int = 0
    failed: int = 0


def relay(
    session: Session | scoped_session[Session],
    publish: Publisher,
    *,
    ids: Iterable[int] | None = None,
    older_than: timedelta | None = None,
    limit: int = 500,
) -> RelayResult:
    """Publish pending messages, oldest first; stop at the first broker failure. Commits ``session``.

    The messages are claimed (marked relayed) in one statement before any is published, and the claim
    commits after the publishing: a relay that dies in between leaves them pending for the sweep. FOR
    UPDATE SKIP LOCKED keeps concurrent relays apart on PostgreSQL; SQLite has no row locks, and there
    the condition on ``relayed_at`` makes a second relay wait for the first one's write lock and then
    find the messages taken. The condition also covers a relay nested in another on the same
    connection, which row locks do not.
    """
    if isinstance(session, scoped_session):
        session = session()
    pending = (
        select(OutboxMessage.id)
        .where(OutboxMessage.relayed_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        pending = pending.where(OutboxMessage.id.in_(list(ids)))
    if older_than is not None:
        pending = pending.where(OutboxMessage.created_at <= utcnow() - older_than)
    result = RelayResult()
    try:
        claimed = sorted(
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(pending.scalar_subquery()), OutboxMessage.relayed_at.is_(None))
                .values(relayed_at=utcnow())
                .returning(OutboxMessage.id, OutboxMessage.task_name, OutboxMessage.kwargs)
                .execution_options(synchronize_session=False)
            ).all()
        )
        for position, (message_id, task_name, kwargs) in enumerate(claimed):
            try:
                publish(task_name, dict(kwargs), f"outbox-{message_id}")
            except Exception as exc:  # the broker's errors are many and transport-specific
                _release(session, message_id, exc, [later for later, _, _ in claimed[position + 1 :]])
                result.failed += 1
                log.warning("outbox relay failed for message %s: %s", message_id, exc)
                break
            result.published += 1
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


def _release(session: Session, failed_id: int, error: Exception, later_ids: list[int]) -> None:
    """Give back the claim on the message that failed, counting the attempt, and on every later one:
    they wait, since the broker is most likely down for them too, and the order is kept."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == failed_id)
        .values(
            relayed_at=None, attempts=OutboxMessage.attempts + 1, last_error=f"{type(error).__name__}: {error}"[:500]
        )
        .execution_options(synchronize_session=False)
    )
    if later_ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(later_ids))
            .values(relayed_at=None)
            .execution_options(synchronize_session=False)
        )


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(OutboxMessage.relayed_at.is_(None))) or 0


def _relay_after_commit(session: Session) -> None:
    """Relay what this transaction enqueued, in a session of its own."""
    if session.get_nested_transaction() is not None:
        # Only a savepoint was released: its work commits (or not) with the enclosing transaction.
        return
    entries = session.info.pop(PENDING_IDS_KEY, None)
    if not entries or not has_app_context():
        return
    publish = current_app.extensions.get(EXTENSION_KEY)
    if publish is None:
        return
    relay_session = db.factory()
    try:
        # Outside the organization: the outbox is no tenant table, and without a tenant the relay's
        # transaction needs no round trip for the row-level security settings.
        with tenant_context(relay_session, None):
            relay(relay_session, publish, ids=[message_id for _, message_id in entries])
    except Exception:  # never fail the request that already committed; the sweep retries
        log.exception("outbox relay after commit failed")
    finally:
        relay_session.close()


def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """Forget the work of a rolled-back transaction or savepoint; its rows no longer exist."""
    entries = session.info.get(PENDING_IDS_KEY)
    if not entries:
        return
    if previous_transaction.parent is None:
        session.info.pop(PENDING_IDS_KEY, None)
    elif previous_transaction.nested:
        # Savepoints nested inside the rolled-back one are gone with it.
        entries[:] = [e for e in entries if not _within(e[0], previous_transaction)]


def _forget_closed(session: Session, transaction: SessionTransaction) -> None:
    # A closed session's transaction neither commits nor fires after_soft_rollback.
    if transaction.parent is None:
        session.info.pop(PENDING_IDS_KEY, None)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def forget_pending(session: Session) -> None:
    """Drop every id this session recorded; for callers that discard a session's work by hand."""
    session.info.pop(PENDING_IDS_KEY, None)


def install_relay_hooks() -> None:
    """Relay after every commit of the platform's sessions; safe to call once per app."""
    if not event.contains(db.factory, "after_commit", _relay_after_commit):
        event.listen(db.factory, "after_commit", _relay_after_commit)
        event.listen(db.factory, "after_soft_rollback", _forget_rolled_back)
        # Fires after after_commit, which by then has taken the ids of a committed transaction.
        event.listen(db.factory, "after_transaction_end", _forget_closed)
