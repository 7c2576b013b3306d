"""The send log: one claim per (user, kind, period), retries on a schedule, abandoned claims taken over,
and the welcome mail on top of it."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engpass import task_names
from engpass.accounts import welcome
from engpass.accounts.models import User
from engpass.accounts.service import sign_up
from engpass.db import db, make_engine, utcnow
from engpass.mail import SendResult
from engpass.notifications import resend, sendlog
from engpass.notifications.models import SendLog, SendStatus
from workers.celery_app import RESEND_INTERVAL

T0 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite gives timestamps back without their zone; every one stored is UTC."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def test_a_key_is_claimed_once(session, make_user):
    user = make_user()
    entry = sendlog.claim(session, user.id, "digest", "2026-W49", now=T0)
    assert (entry.status, entry.attempts, aware(entry.lease_until)) == (SendStatus.claimed, 1, T0 + sendlog.LEASE)
    session.commit()
    assert sendlog.claim(session, user.id, "digest", "2026-W49", now=T0) is None
    assert sendlog.claim(session, user.id, "digest", "2026-W50", now=T0) is not None, "another period"
    assert sendlog.claim(session, user.id, "reminder.no_owner", "7:2026-11-20", now=T0) is not None, "another kind"
    assert sendlog.mark_sent(session, entry, "<id@engpass.local>", now=T0)
    session.commit()
    assert (entry.status, entry.message_id, aware(entry.sent_at), entry.lease_until) == (
        SendStatus.sent,
        "<id@engpass.local>",
        T0,
        None,
    )
    assert sendlog.claim(session, user.id, "digest", "2026-W49", now=T0 + timedelta(days=30)) is None


def test_a_temporary_failure_is_claimed_again_on_schedule_and_then_sent(session, make_user):
    user = make_user()
    entry = sendlog.claim(session, user.id, "digest", "2026-W49", now=T0)
    assert sendlog.record(session, entry, SendResult(ok=False, error="451 4.3.0 busy", code=451), now=T0)
    session.commit()
    assert (entry.status, aware(entry.next_attempt_at), entry.last_error) == (
        SendStatus.retry,
        T0 + sendlog.RETRY_DELAYS[0],
        "451 4.3.0 busy",
    )
    early = T0 + sendlog.RETRY_DELAYS[0] - timedelta(seconds=1)
    assert sendlog.claim(session, user.id, "digest", "2026-W49", now=early) is None
    assert list(sendlog.due(session, now=early)) == []
    later = T0 + sendlog.RETRY_DELAYS[0]
    assert [e.id for e in sendlog.due(session, now=later)] == [entry.id]
    again = sendlog.claim(session, user.id, "digest", "2026-W49", now=later)
    assert (again.id, again.attempts, again.status) == (entry.id, 2, SendStatus.claimed)
    assert sendlog.record(session, again, SendResult(ok=True, message_id="<m@x>"), now=later)
    assert again.status == SendStatus.sent


def test_a_permanent_failure_is_never_retried(session, make_user):
    user = make_user()
    entry = sendlog.claim(session, user.id, "digest", "2026-W49", now=T0)
    sendlog.record(session, entry, SendResult(ok=False, permanent=True, error="550 5.1.1 no such mailbox", code=550))
    session.commit()
    assert (entry.status, entry.next_attempt_at) == (SendStatus.failed, None)
    for days in (0, 1, 30):
        assert sendlog.claim(session, user.id, "digest", "2026-W49", now=T0 + timedelta(days=days)) is None
        assert list(sendlog.due(session, now=T0 + timedelta(days=days))) == []


def test_temporary_failures_end_as_failed_when_the_schedule_runs_out(session, make_user):
    user = make_user()
    now, delays = T0, []
    while (entry := sendlog.claim(session, user.id, "digest", "2026-W49", now=now)) is not None:
        sendlog.mark_failed(session, entry, f"451 attempt {entry.attempts}", permanent=False, now=now)
        if entry.next_attempt_at is None:
            break
        delays.append(aware(entry.next_attempt_at) - now)
        now = aware(entry.next_attempt_at)
    assert delays == list(sendlog.RETRY_DELAYS)
    assert (entry.status, entry.attempts, entry.last_error) == (
        SendStatus.failed,
        sendlog.MAX_ATTEMPTS,
        "451 attempt 7",
    )


def test_an_abandoned_claim_is_taken_over_after_its_lease(session, make_user):
    user = make_user()
    slow = db.factory()  # the first worker's session
    first = sendlog.claim(slow, user.id, "digest", "2026-W49", now=T0)
    slow.commit()
    assert sendlog.claim(session, user.id, "digest", "2026-W49", now=T0 + sendlog.LEASE - timedelta(seconds=1)) is None
    taken = sendlog.claim(session, user.id, "digest", "2026-W49", now=T0 + sendlog.LEASE)
    assert (taken.id, taken.attempts) == (first.id, 2)
    session.commit()
    # The first worker was only slow, not dead: what it reports now no longer counts.
    assert not sendlog.mark_failed(slow, first, "550 too late", permanent=True)
    slow.close()
    assert sendlog.mark_sent(session, taken, "<new@x>")
    assert (taken.status, taken.message_id, taken.last_error) == (SendStatus.sent, "<new@x>", None)


def test_claims_that_die_on_every_attempt_are_given_up(session, make_user):
    user = make_user()
    now = T0
    for _ in range(sendlog.MAX_ATTEMPTS):
        assert sendlog.claim(session, user.id, "digest", "2026-W49", now=now) is not None
        now += sendlog.LEASE
    assert sendlog.claim(session, user.id, "digest", "2026-W49", now=now) is None
    assert sendlog.give_up_abandoned(session, now=now) == 1
    entry = sendlog.find(session, user.id, "digest", "2026-W49")
    session.refresh(entry)
    assert (entry.status, entry.attempts) == (SendStatus.failed, sendlog.MAX_ATTEMPTS)
    assert "never reported back" in entry.last_error


def test_a_batch_claims_its_new_and_due_keys_and_skips_the_rest(session, make_user):
    users = [make_user() for _ in range(4)]
    fresh, retry, sent, held = users
    retried = sendlog.claim(session, retry.id, "digest.1", "2026-W49", now=T0)
    sendlog.mark_failed(session, retried, "451 busy", permanent=False, now=T0)
    done = sendlog.claim(session, sent.id, "digest.1", "2026-W49", now=T0)
    sendlog.mark_sent(session, done, "<done@x>", now=T0)
    sendlog.claim(session, held.id, "digest.1", "2026-W49", now=T0)
    session.commit()
    later = T0 + sendlog.RETRY_DELAYS[0]
    keys = [(user.id, "digest.1", "2026-W49") for user in users]
    claims = sendlog.claim_many(session, [*keys, keys[0]], now=later)
    session.commit()
    assert sorted(claims) == sorted([keys[0], keys[1]]), "new and due again; not the sent one nor the one held"
    assert (claims[keys[0]].attempts, claims[keys[1]].attempts) == (1, 2)
    assert claims[keys[1]].id == retried.id
    assert sendlog.claim_many(session, keys, now=later) == {}, "claimed once"
    # Recorded by the claim's values; a stale claim (taken over since) records nothing.
    assert sendlog.record(session, claims[keys[0]], SendResult(ok=True, message_id="<a@x>"), now=later)
    assert not sendlog.record(session, replace(claims[keys[1]], attempts=1), SendResult(ok=True), now=later)
    assert sendlog.record(session, claims[keys[1]], SendResult(ok=False, error="550 no", permanent=True), now=later)
    session.commit()
    rows = {row.user_id: row for row in session.scalars(select(SendLog).where(SendLog.kind == "digest.1"))}
    session.refresh(rows[fresh.id])
    session.refresh(rows[retry.id])
    assert (rows[fresh.id].status, rows[fresh.id].message_id, rows[fresh.id].lease_until) == (
        SendStatus.sent,
        "<a@x>",
        None,
    )
    assert (rows[retry.id].status, rows[retry.id].last_error) == (SendStatus.failed, "550 no")


def test_of_workers_claiming_the_same_batch_at_once_each_key_goes_to_one(live_engine, committed_user):
    keys = [(committed_user.id, "digest.1", f"2026-W{week}") for week in range(40, 50)]
    # ``_race`` records a result's ``id``: here, how many keys the batch got.
    results = _race(live_engine, lambda s: SimpleNamespace(id=len(sendlog.claim_many(s, keys))))
    assert sorted(results) == [0, 0, 0, len(keys)], results


# --- races: separate connections that really commit -----------------------------------------


@pytest.fixture
def committed_user(databases, live_engine):
    with Session(live_engine, expire_on_commit=False) as s:
        user = User(email=f"race-{uuid4().hex[:8]}@example.com", name="Race", password_hash="x")
        s.add(user)
        s.commit()
    yield user
    owner = make_engine(databases["owner"])
    with owner.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})  # the send log goes with it
    owner.dispose()


def _race(live_engine: Any, attempt: Any, workers: int = 4) -> list[Any]:
    """Run ``attempt(session)`` in ``workers`` threads at once, each committing after a pause."""
    start = threading.Barrier(workers, timeout=10)
    results: list[Any] = []

    def run() -> None:
        try:
            with Session(live_engine) as s:
                start.wait()
                result = attempt(s)
                result_id = None if result is None else result.id
                time.sleep(0.2)  # hold the transaction open while the others try
                s.commit()
                results.append(result_id)
        except BaseException as exc:  # surfaced in the main thread
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [r for r in results if isinstance(r, BaseException)], results
    return results


def test_of_workers_claiming_the_same_new_key_at_once_exactly_one_wins(live_engine, committed_user):
    results = _race(live_engine, lambda s: sendlog.claim(s, committed_user.id, "digest", "2026-W49"))
    assert len(results) == 4
    assert len([r for r in results if r is not None]) == 1, results
    with Session(live_engine) as s:
        assert s.scalar(select(SendLog.attempts).where(SendLog.user_id == committed_user.id)) == 1


def test_of_workers_taking_over_the_same_due_retry_at_once_exactly_one_wins(live_engine, committed_user):
    past = utcnow() - timedelta(hours=1)
    with Session(live_engine) as s:
        entry = sendlog.claim(s, committed_user.id, "digest", "2026-W49", now=past)
        sendlog.mark_failed(s, entry, "451", permanent=False, now=past)
        s.commit()
    results = _race(live_engine, lambda s: sendlog.claim(s, committed_user.id, "digest", "2026-W49"))
    assert len([r for r in results if r is not None]) == 1, results
    with Session(live_engine) as s:
        assert s.scalar(select(SendLog.attempts).where(SendLog.user_id == committed_user.id)) == 2


def test_a_batch_writes_the_log_through_an_autocommit_connection_each_write_durable_at_once(
    live_engine, committed_user
):
    key = (committed_user.id, "digest.1", "2026-W49")

    def status() -> SendStatus | None:
        with Session(live_engine) as other:
            return other.scalar(select(SendLog.status).where(SendLog.user_id == committed_user.id))

    with live_engine.connect() as connection:
        writer = connection.execution_options(isolation_level="AUTOCOMMIT")
        claims = sendlog.claim_many(writer, [key])
        assert status() == SendStatus.claimed, "seen by every other worker without a commit"
        assert sendlog.claim_many(writer, [key]) == {}
        assert sendlog.record(writer, claims[key], SendResult(ok=True, message_id="<a@x>"))
        assert status() == SendStatus.sent


def _statuses(live_engine: Any, user_id: int) -> dict[str, SendStatus]:
    with Session(live_engine) as other:
        return dict(other.execute(select(SendLog.period, SendLog.status).where(SendLog.user_id == user_id)).all())


def test_the_recorder_writes_every_result_by_the_end_of_its_block(live_engine, committed_user):
    keys = [(committed_user.id, "digest.1", f"2026-W{week}") for week in range(40, 46)]
    with live_engine.connect() as connection:
        writer = connection.execution_options(isolation_level="AUTOCOMMIT")
        claims = sendlog.claim_many(writer, keys)
        with sendlog.Recorder(writer) as recorder:
            for number, key in enumerate(keys):
                ok = number % 2 == 0
                recorder.record(claims[key], SendResult(ok=ok, message_id="<a@x>", error="" if ok else "451 busy"))
    assert _statuses(live_engine, committed_user.id) == {
        key[2]: SendStatus.sent if number % 2 == 0 else SendStatus.retry for number, key in enumerate(keys)
    }


def test_a_record_that_fails_stops_the_sender(live_engine, committed_user, monkeypatch):
    keys = [(committed_user.id, "digest.1", f"2026-W{week}") for week in range(40, 46)]
    real_record = sendlog.record
    written: list[str] = []

    def record(writer: Any, claim: sendlog.Claim, result: SendResult) -> bool:
        if claim.period == "2026-W41":
            raise RuntimeError("database gone")
        written.append(claim.period)
        return real_record(writer, claim, result)

    monkeypatch.setattr(sendlog, "record", record)
    handed_over: list[str] = []
    with live_engine.connect() as connection:
        writer = connection.execution_options(isolation_level="AUTOCOMMIT")
        claims = sendlog.claim_many(writer, keys)
        with pytest.raises(RuntimeError, match="database gone"), sendlog.Recorder(writer) as recorder:
            for key in keys:
                recorder.record(claims[key], SendResult(ok=True, message_id="<a@x>"))
                handed_over.append(key[2])
                time.sleep(0.05)  # the recorder's turn: it fails on the second before the sender goes far
    assert written == ["2026-W40"]
    assert len(handed_over) <= 3, "the sender stopped at most one message after the failed record"
    statuses = _statuses(live_engine, committed_user.id)
    assert statuses["2026-W40"] == SendStatus.sent
    assert {statuses[key[2]] for key in keys[1:]} == {SendStatus.claimed}, "unrecorded: claimed until the lease ends"


# --- the welcome mail on the send log, and the resend sweep -----------------------------------


@pytest.fixture
def signed_up(session):
    user, org = sign_up(session, name="Berta", email="berta@example.com", password="x" * 12, company="Berta KG")
    session.commit()
    return user, org


def test_the_welcome_mail_is_logged_under_its_organization(app_context, session, settings, signed_up):
    user, org = signed_up
    assert welcome.send_welcome(session, org.id, user.id) is True
    assert welcome.send_welcome(session, org.id, user.id) is False
    entry = sendlog.find(session, user.id, welcome.KIND, str(org.id))
    assert (entry.status, entry.attempts) == (SendStatus.sent, 1)
    assert entry.message_id.startswith("<")


def test_a_welcome_mail_the_server_delays_is_sent_by_the_sweep_later(
    app_context, session, settings, signed_up, smtp_server, monkeypatch
):
    user, org = signed_up
    server = smtp_server(mode="451")
    settings.smtp_url = server.url
    assert welcome.send_welcome(session, org.id, user.id) is False
    entry = sendlog.find(session, user.id, welcome.KIND, str(org.id))
    assert (entry.status, entry.attempts) == (SendStatus.retry, 1)
    assert entry.last_error.startswith("451")

    server.handler.mode = "accept"
    assert resend.resend_due(session) == 0, "not before its time"
    assert server.handler.received == []
    later = utcnow() + sendlog.RETRY_DELAYS[0] + timedelta(seconds=1)
    monkeypatch.setattr(sendlog, "utcnow", lambda: later)
    assert resend.resend_due(session) == 1
    assert [r.message["To"] for r in server.handler.received] == ["berta@example.com"]
    session.refresh(entry)
    assert (entry.status, entry.attempts, entry.message_id) == (
        SendStatus.sent,
        2,
        server.handler.received[0].message["Message-ID"],
    )
    assert resend.resend_due(session) == 0
    assert welcome.send_welcome(session, org.id, user.id) is False, "a late delivery of the task sends nothing"
    assert len(server.handler.received) == 1


def test_a_welcome_mail_the_server_refuses_is_not_sent_again(
    app_context, session, settings, signed_up, smtp_server, monkeypatch
):
    user, org = signed_up
    server = smtp_server(mode="550")
    settings.smtp_url = server.url
    assert welcome.send_welcome(session, org.id, user.id) is False
    entry = sendlog.find(session, user.id, welcome.KIND, str(org.id))
    assert (entry.status, entry.last_error) == (SendStatus.failed, "550 5.7.1 Message refused")
    server.handler.mode = "accept"
    monkeypatch.setattr(sendlog, "utcnow", lambda: utcnow() + timedelta(days=3))
    assert resend.resend_due(session) == 0
    assert welcome.send_welcome(session, org.id, user.id) is False
    assert server.handler.received == []


def test_a_welcome_mail_whose_worker_died_is_sent_once_the_lease_expires(
    app_context, session, settings, signed_up, monkeypatch
):
    user, org = signed_up
    sendlog.claim(session, user.id, welcome.KIND, str(org.id))  # a worker that claimed, committed and died
    session.commit()
    assert resend.resend_due(session) == 0
    later = utcnow() + sendlog.LEASE
    monkeypatch.setattr(sendlog, "utcnow", lambda: later)
    assert resend.resend_due(session) == 1
    assert sendlog.find(session, user.id, welcome.KIND, str(org.id)).status == SendStatus.sent


def test_the_sweep_leaves_kinds_it_cannot_build_alone(app_context, session, make_user, monkeypatch):
    user = make_user()
    entry = sendlog.claim(session, user.id, "newsletter.monthly", "2026-12")
    sendlog.mark_failed(session, entry, "451", permanent=False)
    session.commit()
    monkeypatch.setattr(sendlog, "utcnow", lambda: utcnow() + timedelta(hours=1))
    assert resend.resend_due(session) == 0
    assert sendlog.find(session, user.id, "newsletter.monthly", "2026-12").status == SendStatus.retry


def test_resenders_are_found_by_kind_or_by_its_prefix(monkeypatch):
    def reminder(_session: Session, _entry: SendLog) -> bool:
        return True

    monkeypatch.setitem(resend.RESENDERS, "reminder.", reminder)
    assert resend.resender_for("welcome") is resend.RESENDERS["welcome"]
    assert resend.resender_for("reminder.no_owner") is reminder
    assert resend.resender_for("reminderx") is None
    assert resend.resender_for("digest") is None


def test_beat_runs_the_resend_sweep(celery):
    entries = [e for e in celery.conf.beat_schedule.values() if e["task"] == task_names.RESEND_MAIL]
    assert [e["schedule"] for e in entries] == [RESEND_INTERVAL]
    assert sendlog.RETRY_DELAYS[0].total_seconds() >= RESEND_INTERVAL
    assert task_names.RESEND_MAIL in celery.tasks
