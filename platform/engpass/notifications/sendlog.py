"""The send log: every e-mail that must go out exactly once per (user, kind, period).

The protocol, for every sender (the welcome mail, reminders, the digest):

1. ``claim()`` the key (or ``claim_many()`` the keys of a batch) and **commit**. Exactly one
   caller gets the row; every other caller, now or later, gets ``None`` — until the row is due
   again (a temporary failure whose ``next_attempt_at`` has come, or a claim whose lease expired
   because its worker died).
2. Build the message and hand it to a ``mail.Mailer``.
3. ``record()`` the ``SendResult`` (``mark_sent`` or ``mark_failed``) and **commit at once**,
   message by message, even inside a batch. ``send_one`` does steps 2 and 3 for a single message.

The one window that cannot be closed: a worker that dies after the SMTP server accepted a
message and before step 3 committed leaves a ``claimed`` row; when its lease expires the
mail is claimed and sent again. SMTP offers no way to hand over a message and commit in one
step; committing right after each message keeps the window to a few milliseconds (a batch
whose ``Recorder`` writes one message behind the sender: two messages at most).

Keys in use: ``welcome`` / ``<organization id>``; ``digest.<organization id>`` and ``digest.clients``
(a consultant's clients) / ``<ISO week, e.g. 2026-W48>``; ``reminder.<rule>`` / ``<cycle id>:<period>``
(``reminders.rules.Reminder.period``); ``data_export`` / ``<organization id>:<export id>``;
``api_token_revoked`` / ``<organization id>:<token id>``.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from sqlalchemy import ColumnElement, Connection, Update, and_, bindparam, or_, select, tuple_, update
from sqlalchemy.orm import Session

from engpass.db import dialect_insert, utcnow
from engpass.mail import Mailer, OutgoingMail, SendResult
from engpass.notifications.models import SendLog, SendStatus
from engpass.settings import Settings

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


def org_period(org_id: int, object_id: int) -> str:
    """The period of a mail about one object of an organization (a data export, a token): the organization's
    id first, so that deleting the organization finds the row by that prefix (``privacy.organization``)."""
    return f"{org_id}:{object_id}"


def split_org_period(period: str) -> tuple[int, int]:
    """``org_period``'s organization and object ids."""
    org_id, object_id = period.split(":")
    return int(org_id), int(object_id)


def _due_again(now: datetime) -> ColumnElement[bool]:
    """Rows that may be claimed once more: a retry whose time has come, or an abandoned claim."""
    return or_(
        and_(SendLog.status == SendStatus.retry, SendLog.next_attempt_at <= now),
        and_(SendLog.status == SendStatus.claimed, SendLog.lease_until <= now, SendLog.attempts < MAX_ATTEMPTS),
    )


def _claimable(now: datetime, mine: Iterable[Claim]) -> ColumnElement[bool]:
    """Rows due again, and the caller's own claims that nobody has taken over."""
    held = [(claim.id, claim.attempts) for claim in mine]
    if not held:
        return _due_again(now)
    own = and_(SendLog.status == SendStatus.claimed, tuple_(SendLog.id, SendLog.attempts).in_(held))
    return or_(_due_again(now), own)


def _new_claim(user_id: int, kind: str, period: str, now: datetime, lease: timedelta) -> dict[str, object]:
    """The row of a key claimed for the first time."""
    return {
        "user_id": user_id,
        "kind": kind,
        "period": period,
        "status": SendStatus.claimed,
        "attempts": 1,
        "lease_until": now + lease,
        "created_at": now,
        "updated_at": now,
    }


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
    values = _new_claim(user_id, kind, period, now, lease)
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


Key = tuple[int, str, str]
# Where the send log is written: a session (commit after each write), or a connection in autocommit mode.
Writer = Session | Connection


@dataclass(frozen=True)
class Claim:
    """A key ``claim_many()`` handed out, as plain values: what recording the result needs.

    A batch commits after every message, which expires the session's ORM objects; recording
    by these values reads nothing back.
    """

    id: int
    user_id: int
    kind: str
    period: str
    attempts: int


def claim_many(
    session: Writer,
    keys: Iterable[Key],
    *,
    now: datetime | None = None,
    lease: timedelta = LEASE,
    mine: Iterable[Claim] = (),
) -> dict[Key, Claim]:
    """``claim()`` for a batch of (user id, kind, period) keys in two statements: the claimed ones.

    The same race-safety as ``claim()``: new keys in one ``INSERT … ON CONFLICT DO NOTHING``,
    rows due again taken over in one conditional UPDATE. Commit before sending — or pass a
    connection in autocommit mode (``db.autocommit_connection``), where each statement commits.

    ``mine``: claims the caller already holds (a batch retried after an outage took them and sent nothing on
    them); they are taken over at once, live lease or not, as long as nobody has taken them since (the same
    row, still ``claimed``, at the same attempt). Anybody else's live claim stays theirs.
    """
    now = now or utcnow()
    # In one order for every batch: two batches that share keys then wait for each other, never deadlock.
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    columns = (SendLog.id, SendLog.user_id, SendLog.kind, SendLog.period, SendLog.attempts)
    rows = [_new_claim(user_id, kind, period, now, lease) for user_id, kind, period in wanted]
    # Core on the session's connection, one statement with the rows as parameters: SQLAlchemy sends them as
    # one multi-row INSERT ("insertmanyvalues") compiled once, where an INSERT built with the rows as VALUES
    # would be compiled anew for every batch.
    insert = dialect_insert(session, SendLog.__table__)
    claimed = list(
        _connection(session).execute(
            insert.on_conflict_do_nothing(index_elements=["user_id", "kind", "period"]).returning(*columns), rows
        )
    )
    inserted = {(row.user_id, row.kind, row.period) for row in claimed}
    existing = [key for key in wanted if key not in inserted]
    if existing:
        claimed += (
            _connection(session)
            .execute(
                update(SendLog.__table__)
                .where(tuple_(SendLog.user_id, SendLog.kind, SendLog.period).in_(existing), _claimable(now, mine))
                .values(
                    status=SendStatus.claimed,
                    attempts=SendLog.attempts + 1,
                    lease_until=now + lease,
                    next_attempt_at=None,
                    updated_at=now,
                )
                .returning(*columns)
            )
            .all()
        )
    return {(row.user_id, row.kind, row.period): Claim(*row) for row in claimed}


@functools.cache
def _finish_claim_statement(names: frozenset[str]) -> Update:
    """``_finish``'s UPDATE for a ``Claim``, made once per set of columns: a batch records thousands of results,
    and building the statement anew each time cost more CPU than running it."""
    table = SendLog.__table__
    return (
        update(table)
        .where(
            table.c.id == bindparam("claim_id"),
            table.c.status == SendStatus.claimed,
            table.c.attempts == bindparam("claim_attempts"),
        )
        .values({"lease_until": None, **{name: bindparam(name) for name in names}})
    )


def _connection(session: Writer) -> Connection:
    return session if isinstance(session, Connection) else session.connection()


def _finish(session: Writer, log: SendLog | Claim, **values: object) -> bool:
    """Update the row only while it is still this claim's; False if another worker took it over.

    A ``SendLog`` shows the row as it now is either way: the updated row comes back with the
    UPDATE, another worker's is read again. A ``Claim`` is only compared, never read back.
    """
    if isinstance(log, Claim):
        statement = _finish_claim_statement(frozenset(values))
        # On the session's connection: the send log is no tenant's, and the ORM's statement hooks cost more
        # than the UPDATE.
        parameters = {"claim_id": log.id, "claim_attempts": log.attempts, **values}
        return _connection(session).execute(statement, parameters).rowcount == 1
    assert isinstance(session, Session), "a SendLog is recorded through the session that holds it"
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


def mark_sent(session: Writer, log: SendLog | Claim, message_id: str, *, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return _finish(
        session, log, status=SendStatus.sent, sent_at=now, updated_at=now, message_id=message_id, next_attempt_at=None
    )


def mark_failed(
    session: Writer,
    log: SendLog | Claim,
    error: str,
    *,
    permanent: bool,
    now: datetime | None = None,
) -> bool:
    """A permanent failure is final; a temporary one waits for its next attempt, until the schedule ends."""
    now = now or utcnow()
    values: dict[str, object] = {"last_error": error[:MAX_ERROR_LENGTH], "updated_at": now}
    if permanent or log.attempts >= MAX_ATTEMPTS:
        values.update(status=SendStatus.failed, next_attempt_at=None)
    else:
        values.update(status=SendStatus.retry, next_attempt_at=now + RETRY_DELAYS[log.attempts - 1])
    return _finish(session, log, **values)


def record(session: Writer, log: SendLog | Claim, result: SendResult, *, now: datetime | None = None) -> bool:
    """What the mailer answered, into the log. Commit right after it (see the module's protocol)."""
    if result.ok:
        return mark_sent(session, log, result.message_id, now=now)
    return mark_failed(session, log, result.error, permanent=result.permanent, now=now)


def send_one(session: Session, entry: SendLog, message: OutgoingMail, settings: Settings) -> bool:
    """Steps 2 and 3 for a single claimed message: hand it to a ``Mailer``, record the result and commit at
    once. True when the server accepted it."""
    with Mailer(settings) as mailer:
        result = mailer.send(message)
    record(session, entry, result)
    session.commit()
    return result.ok


class Recorder:
    """Records a batch's results on a connection in autocommit mode, in a thread of its own, one message
    behind the sender: the wait for each record's commit (the database flushing its log, about half a
    millisecond) passes while the next message is handed to the SMTP server, instead of after it. Both
    threads mostly wait on the network then, so they hardly compete for the interpreter.

    ``with Recorder(connection) as recorder: … recorder.record(claim, result)``. At most one result waits
    while another is written, so a worker that dies leaves at most two sent messages unrecorded instead
    of one (the window of the module's protocol). A record that fails stops the batch: the next
    ``record`` call, or the end of the block, raises its error, and nothing more is sent unrecorded.
    The connection belongs to the recorder's thread until the block ends.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._results: queue.Queue[tuple[Claim, SendResult] | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        # How many results are in the log, in the order they were handed in: the rest may not be.
        self.recorded = 0
        self._thread = threading.Thread(target=self._run, name="engpass-sendlog-recorder", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._results.put(None)
        self._thread.join()
        if self._error is not None and kind is None:
            raise self._error

    def _run(self) -> None:
        while (item := self._results.get()) is not None:
            if self._error is None:
                try:
                    record(self._connection, *item)
                    self.recorded += 1
                except BaseException as exc:  # handed to the sending thread, which stops
                    self._error = exc

    def record(self, claim: Claim, result: SendResult) -> None:
        if self._error is not None:
            raise self._error
        self._results.put((claim, result))


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


def give_up(session: Session, entry: SendLog, reason: str) -> bool:
    """For a resender: take the key (so nobody sends it meanwhile) and record for good that it will not be
    sent, with the reason in ``last_error``, so the sweep does not return to it. Commits; returns False
    (nothing was sent)."""
    claimed = claim(session, entry.user_id, entry.kind, entry.period)
    if claimed is not None:
        mark_failed(session, claimed, reason, permanent=True)
    session.commit()
    return False


def find(session: Session, user_id: int, kind: str, period: str) -> SendLog | None:
    return session.scalars(
        select(SendLog).where(SendLog.user_id == user_id, SendLog.kind == kind, SendLog.period == period)
    ).first()
