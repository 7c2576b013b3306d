"""Digests across outages, in one process: a batch that loses its send log hands where it stood to its retry,
only outages are retried (with a backoff that outlasts a restart), and the sweep finds what nothing claimed.
The same with real processes and real servers: tests/system/faults/test_faults_digests.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from engpass import task_names
from engpass.digest import sending
from engpass.digest.sending import BatchInterrupted, Resume, send_batch, send_round
from engpass.digest.sweep import unclaimed_due
from engpass.mail import SendResult
from engpass.notifications import preferences, sendlog
from engpass.notifications.models import SendLog, SendStatus
from engpass.organizations.models import Role
from engpass.transient import backoff, is_transient, span
from tests.support.digests import monday_7, period, scaled_cycle_with_trends
from workers.tasks.digest import BATCH_RETRIES

GRACE = timedelta(minutes=15)
OUTAGE = sa_exc.OperationalError("UPDATE send_log", {}, ConnectionRefusedError("connection refused"))


@pytest.fixture
def company(session, make_user, make_org):
    """Three people in one company with a cycle, all due at ``monday_7()``, in id order; the company."""
    owner = make_user(email="sabine@example.com")
    members = [make_user(email="jonas@example.com"), make_user(email="lea@example.com")]
    org = make_org("Ausfall GmbH", owner=owner, members=dict.fromkeys(members, Role.member))
    scaled_cycle_with_trends(session, org, owner)
    return [owner, *members], org


def _statuses(session) -> list[tuple[int, SendStatus, int]]:
    session.expire_all()
    return sorted(tuple(row) for row in session.execute(select(SendLog.user_id, SendLog.status, SendLog.attempts)))


def test_a_batch_that_loses_the_send_log_resumes_without_sending_twice(
    app_context, session, smtp, company, monkeypatch
):
    """The second result cannot be recorded: the batch stops with the second message accepted and the third
    claimed. Its retry records the second as sent and takes its own third claim over at once (the lease has 15
    minutes to run): each reader gets one digest."""
    real_record = sendlog.record
    calls = []

    def record(writer: Any, claim: sendlog.Claim, result: SendResult, **kw: Any) -> bool:
        calls.append(claim.user_id)
        if len(calls) == 2:
            raise OUTAGE
        return real_record(writer, claim, result, **kw)

    monkeypatch.setattr(sendlog, "record", record)
    readers, _org = company
    ids = [user.id for user in readers]
    with pytest.raises(BatchInterrupted) as interrupted:
        send_batch(session, ids, monday_7())
    resume = interrupted.value.resume
    assert interrupted.value.__cause__ is OUTAGE
    assert [(claim.user_id, message_id.startswith("<")) for claim, message_id in resume.accepted] == [(ids[1], True)]
    assert [claim.user_id for claim in resume.held] == [ids[2]]
    assert len(smtp.handler.received) == 2
    assert _statuses(session) == [(ids[0], SendStatus.sent, 1), (ids[1], SendStatus.claimed, 1)] + [
        (ids[2], SendStatus.claimed, 1)
    ]

    # Through the task's arguments, as JSON, and the database back.
    monkeypatch.setattr(sendlog, "record", real_record)
    again = Resume.from_json(**resume.as_json())
    assert again == resume
    assert send_batch(session, ids, monday_7(), resume=again) == 1
    assert [mail.rcpt_tos for mail in smtp.handler.received] == [[user.email] for user in readers]
    assert _statuses(session) == [
        (ids[0], SendStatus.sent, 1),
        (ids[1], SendStatus.sent, 1),
        (ids[2], SendStatus.sent, 2),
    ]


def test_a_batch_takes_over_only_its_own_live_claims(session, make_user):
    users = [make_user() for _ in range(2)]
    keys = [(user.id, "digest.1", period(monday_7())) for user in users]
    first = sendlog.claim_many(session, keys)
    session.commit()
    assert sendlog.claim_many(session, keys) == {}, "nobody takes a live claim"
    mine = sendlog.claim_many(session, keys, mine=[first[keys[0]]])
    session.commit()
    assert list(mine) == [keys[0]] and mine[keys[0]].attempts == 2, "its own at once, not the other"
    assert sendlog.claim_many(session, keys, mine=[first[keys[0]]]) == {}, "a claim taken over since is not mine"


def test_only_outages_are_transient():
    assert is_transient(OUTAGE)
    assert is_transient(redis.ConnectionError("refused"))
    assert is_transient(sa_exc.DBAPIError("SELECT 1", {}, Exception("closed"), connection_invalidated=True))
    assert not is_transient(sa_exc.ProgrammingError("SELECT nope", {}, Exception("no such column")))
    assert not is_transient(KeyError("template"))


def test_the_backoff_outlasts_a_restart_of_several_minutes(settings):
    base, cap = settings.digest_retry_base_seconds, settings.digest_retry_max_seconds
    assert [backoff(n, base, cap) for n in range(BATCH_RETRIES)] == [15, 30, 60, 120, 240, 300, 300, 300]
    assert span(BATCH_RETRIES, base, cap) >= 15 * 60


def _run_batch(celery: Any, **kwargs: Any) -> Any:
    return celery.tasks[task_names.SEND_DIGEST_BATCH].apply(kwargs={"user_ids": [1], "now": "2026-12-07T06:00+00:00"})


def test_the_batch_task_retries_an_outage_with_where_it_stood_and_fails_a_bug_at_once(
    app_context, celery, monkeypatch, caplog
):
    from workers.tasks import digest as task

    held = sendlog.Claim(7, 1, "digest.3", "2026-W50", 1)
    seen: list[Resume | None] = []

    def outage(*_args: Any, resume: Resume | None = None, **_kw: Any) -> int:
        seen.append(resume)
        raise BatchInterrupted(Resume(held=(held,))) from OUTAGE

    monkeypatch.setattr(task, "send_batch", outage)
    result = _run_batch(celery)
    assert isinstance(result.result, sa_exc.OperationalError), "given up after the last retry"
    assert len(seen) == 1 + BATCH_RETRIES
    assert seen[0] == Resume() and set(seen[1:]) == {Resume(held=(held,))}, "each retry knows its claims"
    waits = [record.args[3] for record in caplog.records if "digest batch interrupted" in record.getMessage()]
    assert waits == [15, 30, 60, 120, 240, 300, 300, 300]

    def bug(*_args: Any, **_kw: Any) -> int:
        seen.append(None)
        raise KeyError("template")

    seen.clear()
    monkeypatch.setattr(task, "send_batch", bug)
    assert isinstance(_run_batch(celery).result, KeyError)
    assert seen == [None], "not retried"


def _found(session, now) -> dict:
    session.commit()
    return {hour: sorted(ids) for hour, ids in unclaimed_due(session, now, GRACE).items()}


def test_the_sweep_finds_due_digests_nothing_claimed_until_their_week_is_over(app_context, session, smtp, company):
    readers, org = company
    ids = sorted(user.id for user in readers)
    assert _found(session, monday_7() + timedelta(minutes=10)) == {}, "the round's batches still have time"
    assert _found(session, monday_7() + timedelta(minutes=20)) == {monday_7(): ids}
    assert _found(session, monday_7() + timedelta(hours=3, minutes=30)) == {monday_7(): ids}, "10:30"
    assert _found(session, monday_7() + timedelta(days=1, minutes=20)) == {}, "beyond the look back"
    # Due on Sunday at 23:00 in Berlin: at 01:00 on Monday that week is over for them.
    sunday = readers[0]
    preferences.save(session, sunday.id, digest_weekday=6, digest_hour=23)
    sunday_23 = monday_7() - timedelta(hours=8)
    assert _found(session, sunday_23 + timedelta(minutes=30)) == {sunday_23: [sunday.id]}
    assert _found(session, sunday_23 + timedelta(hours=2)) == {}, "last week's digest stays unsent"
    preferences.save(session, sunday.id, digest_weekday=0, digest_hour=7)

    # A live claim is somebody's: not the sweep's.
    keys = [(readers[1].id, sending.kind_for(org.id), period(monday_7()))]
    sendlog.claim_many(session, keys)
    assert _found(session, monday_7() + timedelta(minutes=20)) == {monday_7(): [ids[0], ids[2]]}
    assert send_round(session, monday_7()) == 2
    assert _found(session, monday_7() + timedelta(minutes=20)) == {}


def test_beat_runs_the_digest_sweep_every_few_minutes(celery, settings):
    (entry,) = [e for e in celery.conf.beat_schedule.values() if e["task"] == task_names.SWEEP_DIGESTS]
    assert entry["schedule"] == settings.digest_sweep_interval_seconds == 300
    assert entry["options"]["expires"] == 300, "sweeps piled up in an outage are dropped: the next does it all"
