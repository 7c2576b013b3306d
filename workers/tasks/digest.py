"""Weekly digests: an hourly round that fans the due users out in batches."""

from __future__ import annotations

from datetime import datetime

from celery import current_app, shared_task
from flask import current_app as flask_app

from engpass import task_names
from engpass.db import db
from engpass.digest.sending import batches, due_user_ids, first_round_of_the_hour, send_batch, this_hour


@shared_task(name=task_names.SEND_DUE_DIGESTS)
def send_due_digests(now: str | None = None) -> int:
    """Hourly from beat: whose digest hour is this hour, in batches; returns how many users."""
    moment = datetime.fromisoformat(now) if now else this_hour()
    if not first_round_of_the_hour(flask_app.extensions["engpass.settings"], moment):
        return 0
    user_ids = due_user_ids(db.session(), moment)
    for user_ids_batch in batches(user_ids):
        current_app.send_task(
            task_names.SEND_DIGEST_BATCH, kwargs={"user_ids": user_ids_batch, "now": moment.isoformat()}
        )
    return len(user_ids)


@shared_task(name=task_names.SEND_DIGEST_BATCH, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def send_digest_batch(user_ids: list[int], now: str) -> int:
    """A retry goes through the batch again: what was sent is in the send log and is skipped.

    The send log is written on a connection in autocommit mode: each e-mail's result is durable with one
    round trip, and the task's session only reads.
    """
    with db.autocommit_connection() as send_log:
        return send_batch(db.session(), user_ids, datetime.fromisoformat(now), send_log=send_log)
