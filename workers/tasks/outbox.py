"""The periodic sweep that relays outbox messages the after-commit relay could not hand over, and the embedded
broker's housekeeping."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from engpass import task_names
from engpass.db import db
from engpass.outbox import embedded_broker
from engpass.outbox.service import EXTENSION_KEY, relay

# Younger messages are still being relayed by the request that wrote them.
GRACE = timedelta(seconds=10)


@shared_task(name=task_names.OUTBOX_SWEEP)
def sweep() -> int:
    # The platform's publisher, not this worker's Celery app: the same broker, and the same
    # fail-fast timeouts as the web's relay, so a dead broker ends the sweep instead of hanging it.
    return relay(db.session(), current_app.extensions[EXTENSION_KEY], older_than=GRACE).published


@shared_task(name=task_names.TIDY_EMBEDDED_BROKER)
def tidy_embedded_broker() -> int:
    """Scheduled only when the broker is the embedded one (``make_celery``); returns the messages deleted."""
    return embedded_broker.delete_delivered(current_app.extensions["engpass.settings"].broker_url)
