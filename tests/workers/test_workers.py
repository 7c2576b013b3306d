"""The workers: tasks inside their organization, and real worker processes on Redis and on the embedded broker.

A worker is another process, so the tests that start one commit real rows (on their own
connections, not the rolled-back test transaction) and delete them again at the end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from engpass import create_app, mail, task_names, tenancy
from engpass.accounts import welcome
from engpass.accounts.service import sign_up
from engpass.audit.models import AuditEvent
from engpass.db import db, utcnow
from engpass.notifications.models import SendLog, SendStatus
from engpass.outbox.models import OutboxMessage
from engpass.outbox.publisher import CeleryPublisher
from engpass.outbox.service import EXTENSION_KEY, enqueue, pending_count, relay
from engpass.settings import Settings
from tests.support.committed import delete_committed
from tests.support.workers import Worker, running_worker, wait_for, worker_on_private_queue
from workers.celery_app import SWEEP_INTERVAL


@dataclass
class SignedUp:
    user_id: int
    org_id: int
    org_slug: str
    email: str
    message: OutboxMessage


@pytest.fixture
def signed_up(databases: dict[str, str], live_engine: Any) -> Iterator[SignedUp]:
    """A committed sign-up with its pending welcome message; deleted again afterwards."""
    tag = uuid4().hex[:8]
    with Session(live_engine, expire_on_commit=False) as s:
        user, org = sign_up(s, name="Welcome", email=f"welcome-{tag}@example.com", password="x" * 12, company=tag)
        s.commit()
        message = s.scalars(select(OutboxMessage).where(OutboxMessage.organization_id == org.id)).one()
        data = SignedUp(user.id, org.id, org.slug, user.email, message)
    yield data
    delete_committed(databases, data.org_id, data.user_id)


def welcome_log(engine: Any, org_id: int, user_id: int) -> list[SendLog]:
    with Session(engine) as s:
        return list(
            s.scalars(
                select(SendLog).where(
                    SendLog.user_id == user_id, SendLog.kind == welcome.KIND, SendLog.period == str(org_id)
                )
            )
        )


def assert_one_welcome(worker: Worker, signed: SignedUp, engine: Any) -> None:
    mails = wait_for(worker.mails, "the welcome .eml", worker=worker)
    assert len(mails) == 1
    assert mails[0]["To"] == signed.email
    assert f"/o/{signed.org_slug}/" in mails[0].get_body(("plain",)).get_content()
    entries = wait_for(
        lambda: [e for e in welcome_log(engine, signed.org_id, signed.user_id) if e.status == SendStatus.sent],
        "the welcome mail's send log",
        worker=worker,
    )
    assert [(e.attempts, e.message_id) for e in entries] == [(1, mails[0]["Message-ID"])]


def deliver_again_and_expect_no_second_mail(worker: Worker, publish: CeleryPublisher, signed: SignedUp) -> None:
    task_id = f"outbox-{signed.message.id}"
    publish(signed.message.task_name, signed.message.kwargs, task_id)
    results = wait_for(
        lambda: len(worker.successes(task_id)) >= 2 and worker.successes(task_id), "the redelivery", worker=worker
    )
    assert results == ["True", "False"]
    assert len(worker.mails()) == 1


@pytest.mark.redis
def test_a_worker_on_redis_sends_the_welcome_mail_exactly_once(tmp_path, databases, redis_url, live_engine, signed_up):
    # prefork: the children are forked from a parent that already built the app and its engine.
    with worker_on_private_queue(tmp_path, databases, redis_url, pool="prefork") as (worker, publish):
        with Session(live_engine) as s:
            assert relay(s, publish, ids=[signed_up.message.id]).published == 1
        assert_one_welcome(worker, signed_up, live_engine)
        deliver_again_and_expect_no_second_mail(worker, publish, signed_up)
        assert worker.process.poll() is None, "the worker must still be running"


def test_a_worker_on_the_embedded_broker_runs_tasks_without_redis(tmp_path, databases, live_engine):
    """No Redis: the app's own after-commit relay hands the work to Kombu's SQLAlchemy transport."""
    instance = tmp_path / "worker-instance"
    settings = Settings.from_env(
        {
            "database_url": databases["app"],
            "migration_database_url": databases["owner"],
            "instance_dir": str(instance),
            "secret_key": "x",
            "redis_url": "",
            "smtp_url": "",
        }
    )
    assert settings.broker_url == f"sqla+sqlite:///{instance / 'broker.sqlite3'}"
    app = create_app(settings)
    tag = uuid4().hex[:8]
    signed: SignedUp | None = None
    try:
        with running_worker(tmp_path, databases) as worker:
            with app.app_context():
                with db.transaction() as s:
                    user, org = sign_up(
                        s, name="Eingebettet", email=f"embedded-{tag}@example.com", password="x" * 12, company=tag
                    )
                    message = s.scalars(select(OutboxMessage).where(OutboxMessage.organization_id == org.id)).one()
                signed = SignedUp(user.id, org.id, org.slug, user.email, message)
                with db.transaction() as s:
                    assert pending_count(s) == 0, "the relay after the commit published it"
            assert_one_welcome(worker, signed, live_engine)
            deliver_again_and_expect_no_second_mail(worker, app.extensions[EXTENSION_KEY], signed)
    finally:
        if signed is not None:
            delete_committed(databases, signed.org_id, signed.user_id)


def test_two_deliveries_at_the_same_time_send_one_mail(settings, databases, live_engine, signed_up, monkeypatch):
    app = create_app(settings)
    sent: list[str] = []
    both_started = threading.Barrier(2, timeout=10)

    def slow_send(_mailer: mail.Mailer, message: mail.OutgoingMail) -> mail.SendResult:
        # Widen the window between claiming the send log and recording the result.
        time.sleep(0.5)
        sent.append(message.recipient)
        return mail.SendResult(ok=True, message_id=message.message_id)

    monkeypatch.setattr(mail.Mailer, "send", slow_send)
    results: list[bool | BaseException] = []

    def deliver() -> None:
        try:
            with app.app_context(), Session(live_engine) as s:
                both_started.wait()
                results.append(welcome.send_welcome(s, signed_up.org_id, signed_up.user_id))
        except BaseException as exc:  # surfaced in the main thread
            results.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    assert sorted(results, key=str) == [False, True]
    assert sent == [signed_up.email]
    assert [e.status for e in welcome_log(live_engine, signed_up.org_id, signed_up.user_id)] == [SendStatus.sent]


# In-process: the task base class, the sweep and the worker's process hooks.


def test_a_task_runs_inside_the_organization_of_its_org_id(app, celery, make_org):
    org = make_org("Aufgabe GmbH")

    @celery.task(name="tests.current_org")
    def current_org(org_id: int | None = None) -> int | None:
        return tenancy.current_org_id()

    assert current_org.apply(kwargs={"org_id": org.id}, throw=True).get() == org.id
    assert current_org.apply(throw=True).get() is None
    assert tenancy.current_org_id() is None, "the task's organization must not outlive it"


def test_a_task_without_org_id_cannot_query_tenant_data(app, celery, make_org):
    org = make_org("Mandant GmbH")

    @celery.task(name="tests.count_audit")
    def count_audit(org_id: int | None = None) -> int:
        return len(db.session.scalars(select(AuditEvent)).all())

    with pytest.raises(tenancy.TenantContextMissing):
        count_audit.apply(throw=True)
    assert count_audit.apply(kwargs={"org_id": org.id}, throw=True).get() == 0


def test_the_welcome_task_sends_once_per_user(app, celery, settings, session):
    user, org = sign_up(session, name="Berta", email="berta@example.com", password="x" * 12, company="Berta KG")
    session.commit()
    send = celery.tasks[task_names.SEND_WELCOME]
    assert send.apply(kwargs={"org_id": org.id, "user_id": user.id}, throw=True).get() is True
    assert send.apply(kwargs={"org_id": org.id, "user_id": user.id}, throw=True).get() is False
    mails = list(Path(settings.outbox_dir).glob("*.eml"))
    assert len(mails) == 1
    assert message_from_bytes(mails[0].read_bytes())["To"] == "berta@example.com"


def test_the_sweep_publishes_old_pending_messages(app, celery, session):
    class Down:
        def __call__(self, *_args: Any) -> None:
            raise ConnectionError("broker down")

    recorder = app.extensions[EXTENSION_KEY]
    app.extensions[EXTENSION_KEY] = Down()
    with app.app_context():
        old, young = enqueue(session, "tests.old"), enqueue(session, "tests.young")
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id == old.id).values(created_at=utcnow() - timedelta(minutes=1))
        )
        session.commit()
    app.extensions[EXTENSION_KEY] = recorder
    assert celery.tasks[task_names.OUTBOX_SWEEP].apply(throw=True).get() == 1
    assert recorder.published == [("tests.old", {}, f"outbox-{old.id}")]
    session.refresh(young)
    assert young.relayed_at is None


def test_beat_schedules_the_outbox_sweep(celery):
    entries = [e for e in celery.conf.beat_schedule.values() if e["task"] == task_names.OUTBOX_SWEEP]
    assert len(entries) == 1
    assert entries[0]["schedule"] == SWEEP_INTERVAL
    assert task_names.OUTBOX_SWEEP in celery.tasks


def test_a_forked_worker_process_gets_a_fresh_connection_pool(settings):
    from celery.signals import worker_process_init

    # Not the app fixture: its open test transaction would hold SQLite's write lock.
    create_app(settings)
    parent_pool = db.engine.pool
    try:
        with db.engine.connect() as parents_connection:
            worker_process_init.send(sender=None)
            assert db.engine.pool is not parent_pool
            # close=False: the child leaves the parent's connection alone.
            assert parents_connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        # What the parent process would do with its own pool; unclosed connections warn when collected.
        parent_pool.dispose()
