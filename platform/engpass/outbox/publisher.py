"""A Celery client that only sends tasks by name; it knows nothing of the workers' code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery
from sqlalchemy import make_url

SQLA_PREFIXES = ("sqla+", "sqlalchemy+")


def transport_options(broker_url: str) -> dict[str, Any]:
    """Broker options for a client that must not hang on a dead broker.

    Kombu's SQLAlchemy transport hands every transport option to ``create_engine``, which
    rejects unknown keywords: socket timeouts there made every publish fail with a TypeError.
    """
    if broker_url.startswith(("redis://", "rediss://", "redis+socket://")):
        return {"socket_connect_timeout": 2, "socket_timeout": 5}
    if broker_url.startswith(SQLA_PREFIXES):
        # The broker file is shared with the worker, which locks it on every poll.
        return {"connect_args": {"timeout": 5}}
    return {}


def ensure_broker_dir(broker_url: str) -> None:
    """Create the folder of an SQLite broker file; SQLite creates the file but not its folder.

    The instance folder exists when the database is SQLite in it, but not necessarily when
    only the broker is embedded (PostgreSQL without Redis).
    """
    if not broker_url.startswith(SQLA_PREFIXES):
        return
    url = make_url(broker_url.split("+", 1)[1])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


class CeleryPublisher:
    def __init__(self, broker_url: str, *, queue: str | None = None) -> None:
        ensure_broker_dir(broker_url)
        self._queue = queue
        self._app = Celery("engpass-publisher", broker=broker_url, set_as_current=False)
        self._app.conf.update(
            task_serializer="json",
            accept_content=["json"],
            # A request must not hang on a dead broker: fail fast, the outbox sweep retries.
            broker_connection_timeout=2,
            broker_connection_retry=False,
            broker_connection_max_retries=0,
            broker_transport_options=transport_options(broker_url),
        )

    def __call__(self, task_name: str, kwargs: dict[str, Any], message_id: str) -> None:
        self._app.send_task(task_name, kwargs=kwargs, task_id=message_id, queue=self._queue, retry=False)
