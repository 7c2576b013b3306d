"""The embedded broker's housekeeping: delivered messages go after an hour, waiting ones stay, and beat
schedules it only when the broker is the embedded one."""

from __future__ import annotations

from datetime import datetime, timedelta

from kombu import Connection
from sqlalchemy import create_engine, func, select

from engpass import create_app, task_names
from engpass.outbox import embedded_broker
from engpass.outbox.embedded_broker import MESSAGES, delete_delivered
from engpass.outbox.publisher import CeleryPublisher
from engpass.settings import Settings

QUEUE = "engpass-housekeeping"


def _counts(broker_url: str) -> tuple[int, int]:
    """(waiting, delivered) messages in the broker file."""
    engine = create_engine(broker_url.split("+", 1)[1])
    try:
        with engine.connect() as conn:
            rows = dict(conn.execute(select(MESSAGES.c.visible, func.count()).group_by(MESSAGES.c.visible)).all())
    finally:
        engine.dispose()
    return rows.get(True, 0), rows.get(False, 0)


def test_delivered_messages_go_after_an_hour_and_waiting_ones_stay(tmp_path):
    url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    assert delete_delivered(url) == 0, "no broker file yet: nothing to do, no error"
    publish = CeleryPublisher(url, queue=QUEUE)
    for number in range(3):
        publish("engpass.test.noop", {"number": number}, f"message-{number}")
    with Connection(url) as connection:
        queue = connection.SimpleQueue(QUEUE)
        for _ in range(2):
            queue.get(timeout=5).ack()
        queue.close()
    assert _counts(url) == (1, 2)

    assert delete_delivered(url) == 0, "delivered just now: kept for the hour"
    assert delete_delivered(url, now=datetime.now() + timedelta(hours=2)) == 2
    assert _counts(url) == (1, 0), "the waiting message is still there"
    with Connection(url) as connection:
        queue = connection.SimpleQueue(QUEUE)
        message = queue.get(timeout=5)
        assert message.headers["id"] == "message-2"
        message.ack()
        queue.close()


def test_redis_is_left_alone():
    assert delete_delivered("redis://127.0.0.1:1/0") == 0


def _celery_for(tmp_path, redis_url: str):
    from workers.celery_app import make_celery

    settings = Settings.from_env(
        {
            "database_url": f"sqlite:///{tmp_path / 'engpass.sqlite3'}",
            "instance_dir": str(tmp_path / "instance"),
            "secret_key": "broker-secret",
            "redis_url": redis_url,
        }
    )
    return make_celery(create_app(settings))


def test_beat_tidies_only_the_embedded_broker_and_the_task_runs(tmp_path):
    from engpass.db import db

    previous = db.engine
    try:
        embedded = _celery_for(tmp_path / "a", "")
        entry = embedded.conf.beat_schedule["embedded-broker-tidy"]
        assert entry["task"] == task_names.TIDY_EMBEDDED_BROKER
        assert embedded_broker.is_embedded(embedded.conf.broker_url)
        embedded.loader.import_default_modules()
        assert embedded.tasks[task_names.TIDY_EMBEDDED_BROKER].apply(throw=True).get() == 0
        with_redis = _celery_for(tmp_path / "b", "redis://127.0.0.1:6379/0")
        assert "embedded-broker-tidy" not in with_redis.conf.beat_schedule
    finally:
        db.engine.dispose()
        db.engine = previous
        db.factory.configure(bind=previous)
