"""Digests handed out by the hourly round survive a PostgreSQL restart and a Redis restart in the middle of the
round: every reader gets exactly one digest, soon after the server is back. Each test has a PostgreSQL cluster
of its own (the first stops it; in the second only its readers are due, so the counts are exact), a private
Redis without persistence, real worker processes and a real SMTP server. See docs/reliability.md."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engpass.accounts.service import sign_up
from engpass.db import make_engine
from engpass.notifications.models import SendLog, SendStatus
from engpass.outbox.publisher import CeleryPublisher
from engpass.task_names import RESEND_MAIL, SEND_DUE_DIGESTS, SWEEP_DIGESTS
from tests.support.digests import monday_7, scaled_cycle_with_trends
from tests.support.faults import HoldingHandler, PrivatePostgres, private_postgres, private_redis, require_services
from tests.support.smtp import LoopbackController
from tests.support.workers import running_worker, wait_for

READERS = 40
BATCH = 8
# Backoff shrunk from 15 s doubling up to 5 minutes (about 23 minutes over the eight retries) to 1 s doubling up
# to 6 s: the eight retries span 37 s, longer than the test's outage with a restart on a loaded machine.
FAST_RETRIES = {
    "ENGPASS_DIGEST_RETRY_BASE_SECONDS": "1",
    "ENGPASS_DIGEST_RETRY_MAX_SECONDS": "6",
    "ENGPASS_DIGEST_BATCH_SIZE": str(BATCH),
}
OUTAGE = 15.0


def _sweep_at() -> str:
    """The sweep looks at due hours at least its grace period (15 minutes) ago: as if 20 minutes into the hour."""
    return (monday_7() + timedelta(minutes=20)).isoformat()


@pytest.fixture
def cluster(databases) -> Iterator[tuple[PrivatePostgres, dict[str, str], list[str]]]:
    """A private cluster with a migrated database, the app's role, and ``READERS`` people with a company each, a
    cycle in it and the digest due at ``monday_7()`` — nobody else."""
    require_services(databases)
    with private_postgres() as server:
        owner_url, app_url = server.migrated_database()
        tag = uuid4().hex[:8]
        emails = []
        setup = make_engine(app_url)
        with Session(setup, expire_on_commit=False) as s:
            for n in range(READERS):
                email = f"digest-{tag}-{n}@example.com"
                user, org = sign_up(s, name=f"Leser {n}", email=email, password="x" * 12, company=f"{tag} {n}")
                s.commit()
                scaled_cycle_with_trends(s, org, user)
                emails.append(email)
        setup.dispose()
        yield server, {"app": app_url, "owner": owner_url, "kind": "postgresql"}, emails


def _statuses(url: str) -> Counter[SendStatus]:
    """The send log's rows by status; while the server is down, nothing (the caller waits on)."""
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            return Counter(s.scalars(select(SendLog.status)))
    finally:
        engine.dispose()


def _users_with_a_row(url: str) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            return s.scalar(select(func.count(func.distinct(SendLog.user_id))))
    finally:
        engine.dispose()


def _received(handler: HoldingHandler) -> Counter[str]:
    return Counter(address for mail in handler.received for address in mail.rcpt_tos)


@pytest.fixture
def holding_smtp() -> Iterator[tuple[HoldingHandler, str]]:
    """An SMTP server that holds every message 0.2 s before its answer, and its URL."""
    handler = HoldingHandler(hold=0.2)
    controller = LoopbackController(handler)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()


def _log_lines(marker: str, *workers) -> list[str]:
    return [line for w in workers for line in w.log.read_text().splitlines() if marker in line]


def test_postgresql_stopped_mid_round_every_digest_goes_out_once(tmp_path, cluster, holding_smtp):
    """PostgreSQL is stopped for 15 s while two workers send the round's batches, one message held at the SMTP
    server: the batches retry with backoff; once the database is back they record what the server had accepted
    and send the rest at once, without waiting for their claims' lease. Every reader gets exactly one digest."""
    server, databases, emails = cluster
    owner_url = databases["owner"]
    handler, smtp_url = holding_smtp
    with private_redis(tmp_path) as redis_server:
        publish = CeleryPublisher(redis_server.url)
        workers = dict(redis_url=redis_server.url, smtp_url=smtp_url, settings=FAST_RETRIES)
        with (
            running_worker(tmp_path, databases, name="a", **workers) as a,
            running_worker(tmp_path, databases, name="b", **workers) as b,
        ):
            publish(SEND_DUE_DIGESTS, {"now": monday_7().isoformat()}, "round")
            assert wait_for(lambda: a.successes("round") + b.successes("round"), "the round") == [str(READERS)]

            def mid_round_with_a_message_held() -> bool:
                sent = _statuses(owner_url)[SendStatus.sent]
                return 6 <= sent < READERS - BATCH and handler.in_data > len(handler.received)

            wait_for(mid_round_with_a_message_held, "the round half sent, a message held at DATA", worker=a)
            server.stop("fast")
            stopped = time.monotonic()
            wait_for(lambda: _log_lines("retry: Retry in", a, b), "a batch to retry", worker=a)
            # The outage itself: the database stays away for OUTAGE seconds while the batches back off.
            time.sleep(max(0.0, OUTAGE - (time.monotonic() - stopped)))
            server.start()
            wait_for(lambda: _statuses(owner_url)[SendStatus.sent] == READERS, "every digest recorded", 90, a)
            interrupted = [
                re.search(r"interrupted: (\d+) sent and not recorded", line)
                for line in _log_lines("digest batch interrupted", a, b)
            ]
            assert any(int(m.group(1)) >= 1 for m in interrupted if m), "the message held at DATA was accepted"
            publish(RESEND_MAIL, {}, "resend")
            assert wait_for(lambda: a.successes("resend") + b.successes("resend"), "the resend sweep") == ["0"]
            publish(SWEEP_DIGESTS, {"now": _sweep_at()}, "sweep")
            assert wait_for(lambda: a.successes("sweep") + b.successes("sweep"), "the digest sweep") == ["0"]
    assert _received(handler) == Counter(dict.fromkeys(emails, 1)), "every reader exactly one digest"
    assert _statuses(owner_url) == {SendStatus.sent: READERS}


def test_redis_restarted_mid_round_the_sweep_sends_what_vanished(tmp_path, cluster, holding_smtp):
    """Redis (no persistence) is killed and started again empty while the worker sends the first of the round's
    batches: the queued batches are gone. The worker finishes what it held and reconnects; the digest sweep
    finds exactly the readers without a send-log row and sends them. Every reader gets exactly one digest."""
    _server, databases, emails = cluster
    owner_url = databases["owner"]
    handler, smtp_url = holding_smtp
    with private_redis(tmp_path) as redis_server:
        publish = CeleryPublisher(redis_server.url)
        settings = dict(redis_url=redis_server.url, smtp_url=smtp_url, settings=FAST_RETRIES)
        with running_worker(tmp_path, databases, name="a", **settings) as a:
            publish(SEND_DUE_DIGESTS, {"now": monday_7().isoformat()}, "round")
            assert wait_for(lambda: a.successes("round"), "the round", worker=a) == [str(READERS)]
            wait_for(lambda: _statuses(owner_url)[SendStatus.sent] >= 2, "the first batch sending", worker=a)
            redis_server.stop()
            redis_server.start()
            # The worker notices the lost connection once its batch is done, drops what it had reserved
            # (its delivery tags died with the server) and connects again: from then on nothing runs.
            wait_for(lambda: len(_log_lines("Connected to redis://", a)) == 2, "the worker to reconnect", 60, a)
            with_row = _users_with_a_row(owner_url)
            assert 0 < with_row < READERS, "some batches ran, the rest vanished with Redis"
            assert Counter(_statuses(owner_url)) == {SendStatus.sent: with_row}
            publish(SWEEP_DIGESTS, {"now": _sweep_at()}, "sweep")
            found = wait_for(lambda: a.successes("sweep"), "the digest sweep", worker=a)
            assert found == [str(READERS - with_row)], "exactly the readers nothing claimed"
            wait_for(lambda: _statuses(owner_url)[SendStatus.sent] == READERS, "every digest recorded", worker=a)
            publish(SWEEP_DIGESTS, {"now": _sweep_at()}, "sweep-again")
            assert wait_for(lambda: a.successes("sweep-again"), "the second sweep", worker=a) == ["0"]
    assert _received(handler) == Counter(dict.fromkeys(emails, 1)), "every reader exactly one digest"
    assert _statuses(owner_url) == {SendStatus.sent: READERS}
