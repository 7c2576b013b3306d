"""The periodic sweep that relays outbox messages the after-commit relay could not hand over."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import current_app, shared_task

from engpass import task_names
from engpass.db import db
from engpass.outbox.service import relay

# Younger messages are still being relayed by the request that wrote them.
GRACE = timedelta(seconds=10)


def _publish(task_name: str, kwargs: dict[str, Any], message_id: str) -> None:
    current_app.send_task(task_name, kwargs=kwargs, task_id=message_id)


@shared_task(name=task_names.OUTBOX_SWEEP)
def sweep() -> int:
    return relay(db.session, _publish, older_than=GRACE).published
