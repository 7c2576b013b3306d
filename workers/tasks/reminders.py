"""The reminder e-mails: every hour, the organizations whose local morning it is."""

from __future__ import annotations

from datetime import datetime

from celery import Task, current_app, shared_task
from flask import current_app as flask_app

from engpass import task_names
from engpass.db import db, utcnow
from engpass.reminders.mailing import in_their_morning, send_round

# Organizations per message of the fan-out, as for the trends: spread over workers, few messages.
FAN_OUT_BATCH = 100
# A batch's failed organizations are tried again after this long, a few times; what one of them
# claimed and could not record is the resend sweep's once its lease has expired.
RETRY_DELAY = 300


@shared_task(name=task_names.SEND_DUE_REMINDERS)
def send_due_reminders() -> int:
    """Fan out the organizations whose clock shows the morning hour now; how many."""
    now = utcnow()
    org_ids = in_their_morning(db.session, now)
    for start in range(0, len(org_ids), FAN_OUT_BATCH):
        current_app.send_task(
            task_names.SEND_REMINDERS_BATCH,
            # The hour it was meant for: a batch that waited in the queue still reads that morning's day.
            kwargs={"org_ids": org_ids[start : start + FAN_OUT_BATCH], "now": now.isoformat()},
        )
    return len(org_ids)


@shared_task(name=task_names.SEND_REMINDERS_BATCH, bind=True, max_retries=3, default_retry_delay=RETRY_DELAY)
def send_reminders_batch(self: Task, org_ids: list[int], now: str) -> int:
    """Each organization in turn; a delivery twice, or a retry, sends nothing twice (the send log)."""
    result = send_round(db.session(), org_ids, datetime.fromisoformat(now), flask_app.extensions["engpass.settings"])
    if result.failed:
        # Only the organizations that failed: the others are done.
        raise self.retry(
            kwargs={"org_ids": result.failed, "now": now},
            exc=RuntimeError(f"reminders failed for organizations {result.failed}"),
        )
    return result.sent
