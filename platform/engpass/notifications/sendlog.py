"""The send log: every e-mail that must go out exactly once per (user, kind, period).

The protocol, for every sender (the welcome mail, reminders, the digest):

1. ``claim()`` the key and **commit**. Exactly one caller gets the row; every other caller,
   now or later, gets ``None`` — until the row is due again (a temporary failure whose
   ``next_attempt_at`` has come, or a claim whose lease expired because its worker died).
2. Build the message and hand it to a ``mail.Mailer``.
3. ``record()`` the ``SendResult`` (``mark_sent`` or ``mark_failed``) and **commit at once**,
   message by message, even inside a batch.

The one window that cannot be closed: a worker that dies after the SMTP server accepted a
message and before step 3 committed leaves a ``claimed`` row; when its lease expires the
mail is claimed and sent again. SMTP offers no way to hand over a message and commit in one
step; committing right after each message keeps the window to a few milliseconds.

Keys in use: ``welcome`` / ``<organization id>``; ``digest.<organization id>`` / ``<ISO week, e.g. 2026-W48>``;
``reminder.<rule>`` / ``<cycle id>:<period>`` (``reminders.rules.Reminder.period``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from engpass.db import dialect_insert, utcnow
from engpass.mail import SendResult
from engpass.notifications.models import SendLog, SendStatus

# How long a claim is held before another worker may take the mail over. Longer than any
# batch takes to send, shorter than anyone waits for a digest.
LEASE = timedelta(minutes=15)
# After the n-th failed attempt, wait RETRY_DELAYS[n-1]; after the last one the mail has
# failed for good (about 22 hours after the first attempt).
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
MAX_ERROR_LENGTH = 2000


def _due_again(now: datetime) -> ColumnElement[bool]:
    """Rows that may be claimed once more: a retry whose time has come, or an abandoned claim."""
    return or_(
        and_(SendLog.status == SendStatus.retry, SendLog.next_attempt_at <= now),
        and_(SendLog.status == SendStatus.claimed, SendLog.lease_until <= now, SendLog.attempts < MAX_ATTEMPTS),
    )


def claim(
    session: Session,
    user_id: int,
    kind: str,
    period: str,
    *,
    now: datetime | None = None,
    lease: timedelta = LEASE,
) -> SendLog | None:
    """The row for this key if the caller may send it now, else None. Commit before sending.

    Race-safe on both databases: the insert is ``ON CONFLICT DO NOTHING`` on the unique key
    (PostgreSQL makes a concurrent insert of the same key wait for the first transaction;
    SQLite serialises writers), and taking over an existing row is one conditional UPDATE,
    so of two workers exactly one gets the row.
    """
    now = now or utcnow()
    values = {
        "user_id": user_id,
        "kind": kind,
        "period": period,
        "status": SendStatus.claimed,
        "attempts": 1,
        "lease_until": now + lease,
        "created_at": now,
        "updated_at": now,
    }
    # Both statements return the whole row, so the caller's object comes without another round trip;
    # populate_existing updates an object of this row the session already holds (the resend sweep's).
    insert = dialect_insert(session, SendLog).values(**values)
    entry = session.scalar(
        insert.on_conflict_do_nothing(index_elements=["user_id", "kind", "period"]).returning(SendLog),
        execution_options={"populate_existing": True},
    )
    if entry is None:
        entry = session.scalar(
            update(SendLog)
            .where(SendLog.user_id == user_id, SendLog.kind == kind, SendLog.period == period, _due_again(now))
            .values(
                status=SendStatus.claimed,
                attempts=SendLog.attempts + 1,
                lease_until=now + lease,
                next_attempt_at=None,
                updated_at=now,
            )
            .returning(SendLog),
            execution_options={"synchronize_session": False, "populate_existing": True},
        )
    return entry


def _finish(session: Session, log: SendLog, **values: object) -> bool:
    """Update the row only while it is still this claim's; False if another worker took it over.

    Either way ``log`` shows the row as it now is: the updated row comes back with the UPDATE
    (one round trip per message, in a batch of thousands), another worker's is read again.
    """
    mine = session.scalar(
        update(SendLog)
        .where(SendLog.id == log.id, SendLog.status == SendStatus.claimed, SendLog.attempts == log.attempts)
        .values(lease_until=None, **values)
        .returning(SendLog),
        execution_options={"synchronize_session": False, "populate_existing": True},
    )
    if mine is None:
        session.refresh(log)
    return mine is not None


def mark_sent(session: Session, log: SendLog, message_id: str, *, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return _finish(
        session, log, status=SendStatus.sent, sent_at=now, updated_at=now, message_id=message_id, next_attempt_at=None
    )


def mark_failed(session: Session, log: SendLog, error: str, *, permanent: bool, now: datetime | None = None) -> bool:
    """A permanent failure is final; a temporary one waits for its next attempt, until the schedule ends."""
    now = now or utcnow()
    values: dict[str, object] = {"last_error": error[:MAX_ERROR_LENGTH], "updated_at": now}
    if permanent or log.attempts >= MAX_ATTEMPTS:
        values.update(status=SendStatus.failed, next_attempt_at=None)
    else:
        values.update(status=SendStatus.retry, next_attempt_at=now + RETRY_DELAYS[log.attempts - 1])
    return _finish(session, log, **values)


def record(session: Session, log: SendLog, result: SendResult, *, now: datetime | None = None) -> bool:
    """What the mailer answered, into the log. Commit right after it (see the module's protocol)."""
    if result.ok:
        return mark_sent(session, log, result.message_id, now=now)
    return mark_failed(session, log, result.error, permanent=result.permanent, now=now)


def due(session: Session, *, now: datetime | None = None, limit: int = 100) -> Sequence[SendLog]:
    """Rows that ``claim()`` would hand out again now, the longest waiting first."""
    now = now or utcnow()
    return session.scalars(
        select(SendLog).where(_due_again(now)).order_by(SendLog.updated_at, SendLog.id).limit(limit)
    ).all()


def give_up_abandoned(session: Session, *, now: datetime | None = None) -> int:
    """Fail the claims whose worker died on the last attempt the schedule allows.

    Without this, a mail whose sending crashes every time (a template error, say) would be
    claimed again after every lease, for ever.
    """
    now = now or utcnow()
    result = session.execute(
        update(SendLog)
        .where(SendLog.status == SendStatus.claimed, SendLog.lease_until <= now, SendLog.attempts >= MAX_ATTEMPTS)
        .values(
            status=SendStatus.failed,
            lease_until=None,
            updated_at=now,
            last_error=f"given up: the worker of attempt {MAX_ATTEMPTS} never reported back",
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def find(session: Session, user_id: int, kind: str, period: str) -> SendLog | None:
    return session.scalars(
        select(SendLog).where(SendLog.user_id == user_id, SendLog.kind == kind, SendLog.period == period)
    ).first()
