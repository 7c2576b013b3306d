"""Weekly digests: an hourly round that fans the due users out in batches, and a sweep for what nothing claimed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Task, current_app, shared_task
from flask import current_app as flask_app

from engpass import task_names
from engpass.db import db
from engpass.digest.sending import (
    BatchInterrupted,
    Resume,
    batches,
    due_user_ids,
    first_round_of_the_hour,
    send_batch,
    this_hour,
)
from engpass.digest.sweep import unclaimed_due
from engpass.settings import Settings
from engpass.transient import backoff, is_transient

log = logging.getLogger(__name__)

# With the default backoff (Settings.digest_retry_base_seconds, …_max_seconds: 15 s doubling up to 5 minutes)
# eight retries span about 23 minutes: a restart of PostgreSQL or Redis, or a failover, is over long before,
# and the batch still goes out in the hour it was due. Past them, what the batch claimed is left to the resend
# sweep (after the lease), what it never claimed to the digest sweep.
BATCH_RETRIES = 8


def _fan_out(user_ids: list[int], moment: datetime, settings: Settings) -> None:
    for user_ids_batch in batches(user_ids, settings.digest_batch_size):
        current_app.send_task(
            task_names.SEND_DIGEST_BATCH, kwargs={"user_ids": user_ids_batch, "now": moment.isoformat()}
        )


@shared_task(name=task_names.SEND_DUE_DIGESTS)
def send_due_digests(now: str | None = None) -> int:
    """Hourly from beat: whose digest hour is this hour, in batches; returns how many users.

    Not retried: a second round of the hour finds the hour's lock taken and fans out nothing. A round the
    database failed is made up by the digest sweep.
    """
    settings: Settings = flask_app.extensions["engpass.settings"]
    moment = datetime.fromisoformat(now) if now else this_hour()
    if not first_round_of_the_hour(settings, moment):
        return 0
    user_ids = due_user_ids(db.session(), moment)
    _fan_out(user_ids, moment, settings)
    return len(user_ids)


@shared_task(name=task_names.SEND_DIGEST_BATCH, bind=True, max_retries=BATCH_RETRIES)
def send_digest_batch(
    self: Task,
    user_ids: list[int],
    now: str,
    accepted: list[list[Any]] | None = None,
    held: list[list[Any]] | None = None,
) -> int:
    """A retry goes through the batch again: what was sent is in the send log and is skipped.

    The send log is written on a connection in autocommit mode: each e-mail's result is durable with one
    round trip, and the task's session only reads. When the database or the broker is away, the batch retries
    with backoff, carrying where it stood (``accepted``, ``held``: ``sending.Resume``), so that the retry neither
    sends again what the SMTP server accepted nor waits for the lease of its own claims. Any other error fails
    the task at once.
    """
    resume = Resume.from_json(accepted, held)
    try:
        with db.autocommit_connection() as send_log:
            return send_batch(db.session(), user_ids, datetime.fromisoformat(now), send_log=send_log, resume=resume)
    except BatchInterrupted as interrupted:
        error: BaseException = interrupted.__cause__ or interrupted
        resume = interrupted.resume
    except Exception as other:
        error = other
    if not is_transient(error):
        raise error
    settings: Settings = flask_app.extensions["engpass.settings"]
    if self.request.retries >= BATCH_RETRIES:
        log.error(
            "digest batch given up after %d retries: %d sent and not recorded (sent again after the lease), "
            "%d claims left to the resend sweep",
            BATCH_RETRIES,
            len(resume.accepted),
            len(resume.held),
        )
        raise error
    countdown = backoff(self.request.retries, settings.digest_retry_base_seconds, settings.digest_retry_max_seconds)
    log.warning(
        "digest batch interrupted: %d sent and not recorded, %d claimed and not sent; retry %d in %d s: %.300s",
        len(resume.accepted),
        len(resume.held),
        self.request.retries + 1,
        countdown,
        error,
    )
    raise self.retry(kwargs={"user_ids": user_ids, "now": now, **resume.as_json()}, countdown=countdown, exc=error)


@shared_task(name=task_names.SWEEP_DIGESTS)
def sweep_digests(now: str | None = None) -> int:
    """From beat, every few minutes: digests due in the last hours that nothing claimed go out in batches, each
    with the hour it was due. Returns how many users it found."""
    settings: Settings = flask_app.extensions["engpass.settings"]
    moment = datetime.fromisoformat(now) if now else datetime.now(UTC)
    grace = timedelta(seconds=settings.digest_sweep_grace_seconds)
    found = unclaimed_due(db.session(), moment, grace)
    for hour, user_ids in sorted(found.items()):
        # Info, not a warning: readers whose organizations have nothing to report are found on every run too.
        log.info("digest sweep: %d readers due at %s have no send-log row; handed to batches", len(user_ids), hour)
        _fan_out(user_ids, hour, settings)
    return sum(len(user_ids) for user_ids in found.values())
