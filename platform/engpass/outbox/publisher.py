"""A Celery client that only sends tasks by name; it knows nothing of the workers' code."""

from __future__ import annotations

from typing import Any

from celery import Celery


class CeleryPublisher:
    def __init__(self, broker_url: str) -> None:
        self._app = Celery("engpass-publisher", broker=broker_url, set_as_current=False)
        self._app.conf.update(
            task_serializer="json",
            accept_content=["json"],
            # A request must not hang on a dead broker: fail fast, the outbox sweep retries.
            broker_connection_timeout=2,
            broker_connection_retry=False,
            broker_connection_max_retries=0,
            broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5},
        )

    def __call__(self, task_name: str, kwargs: dict[str, Any], message_id: str) -> None:
        self._app.send_task(task_name, kwargs=kwargs, task_id=message_id, retry=False)
