"""The outbox: work exists exactly when the change that caused it commits, and reaches the broker once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session

from engpass import task_names, tenancy
from engpass.accounts.service import sign_up
from engpass.db import db, make_engine, utcnow
from engpass.outbox.models import OutboxMessage
from engpass.outbox.service import EXTENSION_KEY, enqueue, pending_count, relay


class BrokerDown(ConnectionError):
    pass


class FlakyPublisher:
    """Records what it publishes and fails on the calls it was told to fail."""

    def __init__(self, fail_on: set[int] | None = None, fail_always: bool = False) -> None:
        self.fail_on = fail_on or set()
        self.fail_always = fail_always
        self.calls = 0
        self.published: list[tuple[str, dict[str, Any], str]] = []

    def __call__(self, task_name: str, kwargs: dict[str, Any], message_id: str) -> None:
        self.calls += 1
        if self.fail_always or self.calls in self.fail_on:
            raise BrokerDown("connection refused")
        self.published.append((task_name, kwargs, message_id))


@pytest.fixture(autouse=True)
def _app_context(request):
    """The after-commit relay finds its publisher through the current app.

    Tests of relays on separate connections go without: the app's test transaction would hold
    SQLite's write lock for the whole test.
    """
    if "committed_messages" in request.fixturenames:
        yield
        return
    with request.getfixturevalue("app").app_context():
        yield


def _fresh(session: Session, message: OutboxMessage) -> OutboxMessage:
    # The relay ran in a session of its own; reload what it wrote.
    session.refresh(message)
    return message


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_rolled_back_work_leaves_no_message_and_publishes_nothing(session, publisher):
    enqueue(session, "tests.noop", n=1)
    session.rollback()
    assert _count(session) == 0
    assert publisher.published == []


def test_committed_work_is_published_once_and_marked_relayed(session, publisher):
    message = enqueue(session, "tests.noop", n=1)
    assert publisher.published == [], "nothing may reach the broker before the commit"
    session.commit()
    assert publisher.published == [("tests.noop", {"n": 1}, f"outbox-{message.id}")]
    message = _fresh(session, message)
    assert message.relayed_at is not None
    assert message.attempts == 0
    assert relay(session, publisher).published == 0
    assert len(publisher.published) == 1


def test_a_broker_outage_keeps_the_message_until_a_later_relay(app, session):
    down = FlakyPublisher(fail_always=True)
    app.extensions[EXTENSION_KEY] = down
    message = enqueue(session, "tests.noop", n=1)
    session.commit()  # the request still succeeds
    message = _fresh(session, message)
    assert message.relayed_at is None
    assert message.attempts == 1
    assert message.last_error == "BrokerDown: connection refused"
    assert pending_count(session) == 1

    back = FlakyPublisher()
    result = relay(session, back)
    assert (result.published, result.failed) == (1, 0)
    assert back.published == [("tests.noop", {"n": 1}, f"outbox-{message.id}")]
    assert _fresh(session, message).relayed_at is not None
    assert pending_count(session) == 0


def test_relay_stops_at_the_first_failure_and_keeps_the_order(app, session):
    app.extensions[EXTENSION_KEY] = FlakyPublisher(fail_always=True)
    messages = [enqueue(session, "tests.noop", n=n) for n in (1, 2, 3)]
    session.commit()
    ids = [m.id for m in messages]
    # The outage is over for the first message only.
    flaky = FlakyPublisher(fail_on={2})
    result = relay(session, flaky, ids=ids)
    assert (result.published, result.failed) == (1, 1)
    assert [p[2] for p in flaky.published] == [f"outbox-{ids[0]}"]
    second, third = (_fresh(session, m) for m in messages[1:])
    assert (second.relayed_at, second.attempts) == (None, 1)
    assert (third.relayed_at, third.attempts) == (None, 0), "the relay must not skip ahead after a failure"

    healthy = FlakyPublisher()
    relay(session, healthy, ids=ids)
    assert [p[2] for p in healthy.published] == [f"outbox-{ids[1]}", f"outbox-{ids[2]}"]


def test_the_organization_in_context_travels_as_org_id(session, publisher, make_org):
    org = make_org("Kontext GmbH")
    with tenancy.tenant_context(session, org.id):
        message = enqueue(session, "tests.noop", n=1)
    session.commit()
    assert message.organization_id == org.id
    assert publisher.published == [("tests.noop", {"n": 1, "org_id": org.id}, f"outbox-{message.id}")]


def test_the_relay_after_a_write_claims_in_one_statement_outside_the_organization(
    session, publisher, make_org, connection
):
    """The relay's transaction is no tenant's: no row-level security settings, one claim for all messages."""
    org = make_org("Relais GmbH")
    with tenancy.tenant_context(session, org.id):
        messages = [enqueue(session, "tests.noop", n=n) for n in (1, 2)]
        session.flush()
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        event.listen(connection, "before_cursor_execute", record)
        try:
            session.commit()
        finally:
            event.remove(connection, "before_cursor_execute", record)
    assert [p[2] for p in publisher.published] == [f"outbox-{m.id}" for m in messages]
    touching_outbox = [s for s in statements if "outbox_messages" in s]
    assert len(touching_outbox) == 1 and touching_outbox[0].lstrip().upper().startswith("UPDATE")
    assert not [s for s in statements if "set_config" in s]


def test_sign_up_enqueues_the_welcome_mail_for_after_the_commit(session, publisher):
    user, org = sign_up(session, name="Anna", email="anna@example.com", password="x" * 12, company="Anna AG")
    assert publisher.published == []
    session.commit()
    assert [(name, kwargs) for name, kwargs, _ in publisher.published] == [
        (task_names.SEND_WELCOME, {"user_id": user.id, "org_id": org.id})
    ]


def test_a_rolled_back_savepoint_keeps_the_outer_work(session, publisher):
    outer = enqueue(session, "tests.outer")
    with pytest.raises(RuntimeError), session.begin_nested():
        enqueue(session, "tests.inner")
        raise RuntimeError("the nested step fails")
    session.commit()
    assert publisher.published == [("tests.outer", {}, f"outbox-{outer.id}")]
    assert session.scalars(select(OutboxMessage.task_name)).all() == ["tests.outer"]


def test_a_released_savepoint_is_relayed_with_its_transaction(session, publisher):
    with session.begin_nested():
        inner = enqueue(session, "tests.inner")
    with pytest.raises(RuntimeError), session.begin_nested():
        enqueue(session, "tests.doomed")
        raise RuntimeError("a sibling savepoint fails")
    assert publisher.published == []
    session.commit()
    assert publisher.published == [("tests.inner", {}, f"outbox-{inner.id}")]


def test_a_new_transaction_does_not_relay_the_rolled_back_one(session, publisher):
    enqueue(session, "tests.doomed")
    session.rollback()
    kept = enqueue(session, "tests.kept")
    session.commit()
    assert publisher.published == [("tests.kept", {}, f"outbox-{kept.id}")]


def test_a_relay_started_while_another_publishes_never_repeats_its_messages(app, session):
    app.extensions[EXTENSION_KEY] = FlakyPublisher(fail_always=True)
    ids = [enqueue(session, "tests.noop", n=n).id for n in (1, 2)]
    session.commit()
    inner = FlakyPublisher()

    def publish_and_race(task_name: str, kwargs: dict[str, Any], message_id: str) -> None:
        if not outer.published:
            racer = db.factory()
            try:
                relay(racer, inner, ids=ids)
            finally:
                racer.close()
        outer.published.append((task_name, kwargs, message_id))

    outer = FlakyPublisher()
    relay(session, publish_and_race, ids=ids)
    published = [p[2] for p in inner.published + outer.published]
    assert sorted(published) == sorted(f"outbox-{i}" for i in ids), "each message exactly once"
    assert pending_count(session) == 0


def test_the_sweep_leaves_young_messages_to_the_request_that_wrote_them(app, session):
    app.extensions[EXTENSION_KEY] = FlakyPublisher(fail_always=True)
    young, old = enqueue(session, "tests.young"), enqueue(session, "tests.old")
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id == old.id).values(created_at=utcnow() - timedelta(minutes=5))
    )
    session.commit()
    sweep = FlakyPublisher()
    relay(session, sweep, ids=[young.id, old.id], older_than=timedelta(seconds=10))
    assert sweep.published == [("tests.old", {}, f"outbox-{old.id}")]


@pytest.fixture
def committed_messages(databases) -> Iterator[list[int]]:
    """Pending messages committed for real, so that relays on separate connections can compete."""
    engine = make_engine(databases["app"])
    with Session(engine) as s:
        messages = [OutboxMessage(task_name="tests.race", kwargs={"n": n}) for n in range(5)]
        s.add_all(messages)
        s.commit()
        ids = [m.id for m in messages]
    yield ids
    with Session(engine) as s:
        s.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
        s.commit()
    engine.dispose()


def test_concurrent_relays_on_separate_connections_publish_each_message_once(databases, committed_messages):
    engine = make_engine(databases["app"])
    ids = committed_messages
    second = FlakyPublisher()
    errors: list[BaseException] = []

    def run_second_relay() -> None:
        try:
            with Session(engine) as s:
                relay(s, second, ids=ids)
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    racer = threading.Thread(target=run_second_relay)
    first = FlakyPublisher()

    def publish_while_racing(task_name: str, kwargs: dict[str, Any], message_id: str) -> None:
        if not racer.is_alive() and not first.published:
            # The second relay starts while this one holds its messages: PostgreSQL skips the
            # locked rows, SQLite makes it wait for the write lock and then finds them relayed.
            racer.start()
            racer.join(0.5)
        first(task_name, kwargs, message_id)

    try:
        with Session(engine) as s:
            relay(s, publish_while_racing, ids=ids)
        racer.join(30)
        assert not racer.is_alive()
        assert errors == []
        assert second.published == [], "the second relay started while the first held every message"
        assert [p[2] for p in first.published] == [f"outbox-{i}" for i in ids]
        with Session(engine) as s:
            assert (
                s.scalar(select(func.count()).where(OutboxMessage.id.in_(ids), OutboxMessage.relayed_at.is_(None))) == 0
            )
    finally:
        engine.dispose()
