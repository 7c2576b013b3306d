"""Faults survived, against real PostgreSQL and a private Redis of each test (which it may break): two
schedulers at once, a worker killed with SIGKILL in the middle of a digest batch. Counts are exact: every
recipient's mails are counted at a real SMTP server. See docs/reliability.md."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from uuid import uuid4

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from engpass.accounts.service import sign_up
from engpass.db import make_engine, utcnow
from engpass.notifications.models import SendLog, SendStatus
from engpass.outbox.publisher import CeleryPublisher
from engpass.task_names import RESEND_MAIL, SEND_DIGEST_BATCH, SEND_DUE_DIGESTS
from tests.support.digests import monday_7, scaled_cycle_with_trends
from tests.support.faults import HoldingHandler, kill_group, private_redis, require_services
from tests.support.smtp import LoopbackController
from tests.support.workers import running_worker, wait_for

READERS = 5


@pytest.fixture
def readers(databases, live_engine) -> Iterator[list[str]]:
    """``READERS`` people with a company each, a cycle in it, and the digest due at ``monday_7()``."""
    require_services(databases)
    tag = uuid4().hex[:8]
    orgs, users, emails = [], [], []
    with Session(live_engine, expire_on_commit=False) as s:
        for n in range(READERS):
            email = f"fault-{tag}-{n}@example.com"
            owner, org = sign_up(s, name=f"Leser {n}", email=email, password="x" * 12, company=f"Fault {tag} {n}")
            s.commit()
            scaled_cycle_with_trends(s, org, owner)
            orgs.append(org.id)
            users.append(owner.id)
            emails.append(email)
    yield emails
    owner_engine = make_engine(databases["owner"])
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM organizations WHERE id = ANY(:ids)"), {"ids": orgs})
        conn.execute(text("DELETE FROM users WHERE id = ANY(:ids)"), {"ids": users})
    owner_engine.dispose()


@pytest.fixture
def redis_server(tmp_path):
    with private_redis(tmp_path) as server:
        yield server


def _send_log(engine, emails: list[str]) -> list[SendLog]:
    from engpass.accounts.models import User

    with Session(engine) as s:
        return list(s.scalars(select(SendLog).join(User, User.id == SendLog.user_id).where(User.email.in_(emails))))


def _user_ids(engine, emails: list[str]) -> list[int]:
    from engpass.accounts.models import User

    with Session(engine) as s:
        return sorted(s.scalars(select(User.id).where(User.email.in_(emails))))


def _received(handler) -> Counter[str]:
    return Counter(address for mail in handler.received for address in mail.rcpt_tos)


def test_two_schedulers_at_once_send_each_digest_once(tmp_path, databases, live_engine, readers, redis_server):
    """Two beats by mistake: the hourly round reaches two workers at the same moment. One round fans out, the
    other finds the hour's lock taken; every reader gets exactly one digest."""
    handler = HoldingHandler(hold=0)
    smtp = LoopbackController(handler)
    smtp.start()
    publish = CeleryPublisher(redis_server.url)
    moment = monday_7().isoformat()
    try:
        with (
            running_worker(tmp_path, databases, redis_url=redis_server.url, smtp_url=_url(smtp), name="a") as a,
            running_worker(tmp_path, databases, redis_url=redis_server.url, smtp_url=_url(smtp), name="b") as b,
        ):
            publish(SEND_DUE_DIGESTS, {"now": moment}, "round-1")
            publish(SEND_DUE_DIGESTS, {"now": moment}, "round-2")
            rounds = [wait_for(lambda t=t: a.successes(t) + b.successes(t), f"{t}") for t in ("round-1", "round-2")]
            fanned_out = sorted(int(result) for (result,) in rounds)
            assert fanned_out[0] == 0, "the second round found the hour taken"
            due = fanned_out[1]
            assert due >= READERS
            wait_for(lambda: _batches_done(a, b) == -(-due // 100), "every batch to finish", worker=a)
        # Other due users of a shared test database may have had this week's digest already: counted per
        # recipient, nobody got two, and each of the five got one.
        assert set(_received(handler).values()) == {1}, "nothing sent twice"
        assert [_received(handler)[email] for email in readers] == [1] * READERS
        assert sorted(e.status for e in _send_log(live_engine, readers)) == [SendStatus.sent] * READERS
    finally:
        smtp.stop()


def _url(controller: LoopbackController) -> str:
    return f"smtp://127.0.0.1:{controller.port}"


def _batches_done(*workers) -> int:
    marker = f"Task {SEND_DIGEST_BATCH}["
    return sum(
        1 for w in workers for line in w.log.read_text().splitlines() if marker in line and "] succeeded in " in line
    )


def test_a_worker_killed_mid_batch_sends_the_rest_once_after_the_lease(
    tmp_path, databases, live_engine, readers, redis_server
):
    """SIGKILL while the SMTP server holds the third message before its answer: the first two are recorded as
    sent, the third never got its 250 and is discarded by the server, the rest were never handed over. After
    the lease (set into the past here instead of waiting 15 minutes) the batch delivered again sends exactly
    the three missing ones, and the resend sweep finds nothing left."""
    handler = HoldingHandler(hold=1.0)
    smtp = LoopbackController(handler)
    smtp.start()
    publish = CeleryPublisher(redis_server.url)
    kwargs = {"user_ids": _user_ids(live_engine, readers), "now": monday_7().isoformat()}
    owner_engine = make_engine(databases["owner"])
    try:
        with running_worker(tmp_path, databases, redis_url=redis_server.url, smtp_url=_url(smtp), name="a") as a:
            publish(SEND_DIGEST_BATCH, kwargs, "batch-1")

            def two_recorded_third_held() -> bool:
                sent = [e for e in _send_log(live_engine, readers) if e.status == SendStatus.sent]
                return len(sent) == 2 and handler.in_data == 3

            wait_for(two_recorded_third_held, "two digests recorded and the third held at DATA", worker=a)
            kill_group(a.process)
        wait_for(lambda: handler.discarded == 1, "the server to drop the unanswered third message")
        assert len(handler.received) == 2
        log = _send_log(live_engine, readers)
        assert Counter(e.status for e in log) == {SendStatus.sent: 2, SendStatus.claimed: 3}, "no half-state"

        with owner_engine.begin() as conn:
            conn.execute(
                update(SendLog)
                .where(SendLog.id.in_([e.id for e in log if e.status == SendStatus.claimed]))
                .values(lease_until=utcnow())
            )
        with running_worker(tmp_path, databases, redis_url=redis_server.url, smtp_url=_url(smtp), name="b") as b:
            publish(SEND_DIGEST_BATCH, kwargs, "batch-again")
            assert wait_for(lambda: b.successes("batch-again"), "the batch delivered again", worker=b) == ["3"]
            publish(RESEND_MAIL, {}, "resend")
            assert wait_for(lambda: b.successes("resend"), "the resend sweep", worker=b) == ["0"]
        assert _received(handler) == Counter(dict.fromkeys(readers, 1)), "every reader exactly one digest"
        log = _send_log(live_engine, readers)
        assert sorted((e.status, e.attempts) for e in log) == [(SendStatus.sent, 1)] * 2 + [(SendStatus.sent, 2)] * 3
    finally:
        owner_engine.dispose()
        smtp.stop()


def _snapshots(engine, org_id: int) -> list[dict]:
    with engine.connect() as conn:
        return _snapshot_rows(conn, org_id)


def _snapshot_rows(conn, org_id: int) -> list[dict]:
    query = text("SELECT * FROM trend_snapshots WHERE organization_id = :o ORDER BY week_start")
    return [dict(row._mapping) for row in conn.execute(query, {"o": org_id})]


def _figures(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in ("id", "computed_at")} for row in rows]


def test_a_worker_killed_mid_recompute_leaves_the_old_snapshots_whole(tmp_path, databases, live_engine, redis_server):
    """SIGKILL while a recompute has written part of the organization's snapshots: it is stopped inside its
    one statement that upserts them (the test holds one of the rows locked, so the worker waits there, the
    rows before it written but not committed). The organization keeps its old complete set; the task
    delivered again writes the new complete set, equal to a clean recompute."""
    from datetime import date as day

    from engpass import tenancy
    from engpass.cycles.models import Cycle
    from engpass.cycles.service import add_measurement
    from engpass.task_names import RECOMPUTE_TRENDS
    from engpass.trends import service as trends

    require_services(databases)
    tag = uuid4().hex[:8]
    with Session(live_engine, expire_on_commit=False) as s:
        owner, org = sign_up(s, name="Rechner", email=f"recompute-{tag}@example.com", password="x" * 12, company=tag)
        s.commit()
        scaled_cycle_with_trends(s, org, owner)
    owner_engine = make_engine(databases["owner"])
    publish = CeleryPublisher(redis_server.url)
    task = {"org_id": org.id, "force": True}
    try:
        # Thirty weeks of history: the recompute writes thirty-one rows in its one upsert.
        with owner_engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE cycles SET bottleneck_at = bottleneck_at - interval '30 weeks' WHERE organization_id = :o"
                ),
                {"o": org.id},
            )
        with Session(live_engine) as s, tenancy.tenant_context(s, org.id):
            trends.recompute(s, full=True)
            s.commit()
        before = _snapshots(owner_engine, org.id)
        assert len(before) == 31
        with Session(live_engine) as s, tenancy.tenant_context(s, org.id):
            cycle = s.scalars(select(Cycle)).one()
            values = {"measured_on": day.today(), "kpi_value": 1, "hours_per_week": None, "cost_per_week": None}
            add_measurement(s, cycle, {**values, "note": "nach dem Absturz"}, actor_id=None)
            s.commit()
        locker = owner_engine.connect()
        blocked = locker.begin()
        locker.execute(
            text("SELECT 1 FROM trend_snapshots WHERE organization_id = :o AND week_start = :w FOR UPDATE"),
            {"o": org.id, "w": before[-1]["week_start"]},
        )
        try:
            with running_worker(tmp_path, databases, redis_url=redis_server.url, name="a") as a:
                publish(RECOMPUTE_TRENDS, task, "recompute-1")

                def waiting_backend() -> int | None:
                    with owner_engine.connect() as conn:
                        return conn.execute(
                            text(
                                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                " AND wait_event_type = 'Lock' AND query ILIKE '%trend_snapshots%'"
                            )
                        ).scalar()

                backend = wait_for(waiting_backend, "the recompute to wait inside its upsert", worker=a)
                kill_group(a.process)
        finally:
            blocked.rollback()
            locker.close()

        def backend_gone() -> bool:
            with owner_engine.connect() as conn:
                query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p")
                return conn.execute(query, {"p": backend}).scalar() == 0

        wait_for(backend_gone, "the killed worker's transaction to end")
        assert _snapshots(owner_engine, org.id) == before, "the old complete set, not a half-written one"

        with running_worker(tmp_path, databases, redis_url=redis_server.url, name="b") as b:
            publish(RECOMPUTE_TRENDS, task, "recompute-again")
            assert wait_for(lambda: b.successes("recompute-again"), "the recompute delivered again", worker=b) == [
                str(len(before))
            ]
        after = _snapshots(owner_engine, org.id)
        with Session(live_engine) as s, tenancy.tenant_context(s, org.id):
            trends.recompute(s, full=True)
            s.flush()
            clean = _figures(_snapshot_rows(s.connection(), org.id))
            s.rollback()
        assert _figures(after) == clean, "the new complete set"
        assert _figures(after) != _figures(before), "the measurement changed the figures"
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM organizations WHERE id = :id"), {"id": org.id})
            conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": owner.id})
        owner_engine.dispose()


def _zone_in_its_morning() -> str:
    """A fixed-offset zone whose clock shows the reminders' morning hour now (``Etc/GMT-2`` is UTC+2)."""
    from datetime import UTC, datetime

    from engpass.reminders.mailing import MORNING_HOUR

    now = datetime.now(UTC)
    if now.minute == 59:
        # The rounds must run in the hour the zone is picked for: wait for the next one to begin.
        time.sleep(61 - now.second)
        now = datetime.now(UTC)
    offset = MORNING_HOUR - now.hour
    if offset < -12:
        offset += 24
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


def test_two_reminder_rounds_at_once_send_each_reminder_once(tmp_path, databases, live_engine, redis_server):
    """The reminders' hourly round has no lock of its own: two schedulers fan the organization out twice,
    and the send log keeps its reminder to one e-mail."""
    from engpass import tenancy
    from engpass.accounts.models import User
    from engpass.organizations.service import create_organization
    from engpass.task_names import SEND_DUE_REMINDERS, SEND_REMINDERS_BATCH
    from tests.support.cycles import named_cycle

    require_services(databases)
    tag = uuid4().hex[:8]
    with Session(live_engine, expire_on_commit=False) as s:
        user = User(email=f"morning-{tag}@example.com", name="Morgen", password_hash="x")
        s.add(user)
        s.flush()
        org = create_organization(s, f"Morgen {tag}", user)
        org.timezone = _zone_in_its_morning()
        s.commit()
        with tenancy.tenant_context(s, org.id):
            named_cycle(s, user.id, "Zweimal geplant", named_days_ago=10)
            s.commit()
    publish = CeleryPublisher(redis_server.url)
    try:
        with (
            running_worker(tmp_path, databases, redis_url=redis_server.url, name="a") as a,
            running_worker(tmp_path, databases, redis_url=redis_server.url, name="b") as b,
        ):
            publish(SEND_DUE_REMINDERS, {}, "morning-1")
            publish(SEND_DUE_REMINDERS, {}, "morning-2")
            for round_id in ("morning-1", "morning-2"):
                (fanned_out,) = wait_for(lambda r=round_id: a.successes(r) + b.successes(r), round_id, worker=a)
                assert int(fanned_out) >= 1, "both rounds fanned the organization out"

            def batches_done() -> int:
                marker = f"Task {SEND_REMINDERS_BATCH}["
                lines = (line for w in (a, b) for line in w.log.read_text().splitlines())
                return sum(1 for line in lines if marker in line and "] succeeded in " in line)

            wait_for(lambda: batches_done() == 2, "both rounds' batches to finish", worker=a)
            mails = [m for m in a.mails() + b.mails() if m["To"] == user.email]
        assert [m["Subject"] for m in mails] == [f"{org.name}: Ist-Zustand nicht quantifiziert – Zweimal geplant"]
    finally:
        owner_engine = make_engine(databases["owner"])
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM organizations WHERE id = :id"), {"id": org.id})
            conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})
        owner_engine.dispose()
