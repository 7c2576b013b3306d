"""Celery configured from the platform's settings, with tasks that run inside the Flask app."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import worker_process_init
from flask import Flask, current_app, has_app_context

from engpass import features, task_names, tenancy
from engpass.db import db
from engpass.outbox import embedded_broker
from engpass.outbox.publisher import ensure_broker_dir
from engpass.settings import Settings

# The task modules the features name (Feature.task_module): engpass names them, only the workers import them.
TASK_MODULES = features.task_modules()

# The periodic schedule stays here, in one piece: its minutes are spread over the hour against each other
# (1, 7, 23, 41), and an operator reads the system's whole periodic load in one place.
# The sweep re-sends what the after-commit relay could not hand over.
SWEEP_INTERVAL = 30.0
# Mails due for another attempt wait at least five minutes (notifications.sendlog.RETRY_DELAYS).
RESEND_INTERVAL = 300.0
# Webhook retries go to the broker with their countdown; this sweep only finds what was lost on the way.
WEBHOOKS_SWEEP_INTERVAL = 120.0
# Reminders: every hour at seven past, for the organizations whose local clock shows the morning hour
# (reminders.mailing.MORNING_HOUR). Every time zone is offset by a multiple of 15 minutes, so each
# organization's morning hour holds exactly one run, at least seven minutes from either end of it: a
# worker clock a little off, or a short wait in the queue, still finds the same hour.
REMINDERS_SCHEDULE = crontab(minute=7)


class AppTask(Task):
    """Runs every task in the app context and inside the organization named by ``org_id``.

    Arguments are ids, never ORM objects: JSON in, and the task loads fresh state. Without
    ``org_id`` a task runs with no organization, so a tenant query raises instead of seeing
    every tenant.
    """

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        flask_app: Flask = self.app.flask_app
        if has_app_context() and current_app._get_current_object() is flask_app:
            # Run eagerly inside a request or test: its app context and session stay the caller's.
            return self._call_in_tenant(args, kwargs)
        # A context of its own per task: its teardown removes the session and clears the tenant.
        with flask_app.app_context():
            return self._call_in_tenant(args, kwargs)

    def _call_in_tenant(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        org_id = kwargs.get("org_id")
        # tenant_context restores the caller's organization afterwards, for eager calls.
        with tenancy.tenant_context(db.session, None if org_id is None else int(org_id)):
            return super().__call__(*args, **kwargs)


def make_celery(flask_app: Flask) -> Celery:
    settings: Settings = flask_app.extensions["engpass.settings"]
    ensure_broker_dir(settings.broker_url)
    celery = Celery("engpass", task_cls=AppTask, include=TASK_MODULES)
    celery.flask_app = flask_app
    celery.conf.update(
        broker_url=settings.broker_url,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        # A task is acknowledged after it ran: a killed worker's task is delivered again.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A task running when the broker goes away runs to its end (Celery 6 would cancel it): a digest batch
        # then sends and records what it claimed, instead of leaving its claims to the lease, and its message,
        # which cannot be acknowledged, comes again only from a broker that kept it — where the send log skips it.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=240,
        task_time_limit=300,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        # Each run of a periodic task is sent once, even when two beats run by mistake (workers/beat.py); beat
        # ticks at least every 15 s, so a standby takes over a stopped beat's interval entries promptly.
        beat_scheduler="workers.beat:SingleSendScheduler",
        beat_max_loop_interval=15,
        beat_schedule={
            "outbox-sweep": {
                "task": task_names.OUTBOX_SWEEP,
                "schedule": SWEEP_INTERVAL,
                # Sweeps queued up during a worker outage are redundant: the next one does it all.
                "options": {"expires": SWEEP_INTERVAL},
            },
            "mail-resend": {
                "task": task_names.RESEND_MAIL,
                "schedule": RESEND_INTERVAL,
                "options": {"expires": RESEND_INTERVAL},
            },
            "reminders-hourly": {
                "task": task_names.SEND_DUE_REMINDERS,
                "schedule": REMINDERS_SCHEDULE,
                # Runs piled up during a worker outage would each do the hour they run in, as the next one will.
                "options": {"expires": 3600},
            },
            # Every hour: a digest is due in the hour its reader chose, in the reader's time zone.
            "digest-hourly": {
                "task": task_names.SEND_DUE_DIGESTS,
                "schedule": crontab(minute=1),
                "options": {"expires": 3000},
            },
            # Digests due in the last hours that nothing claimed: their batch vanished with the broker, or its
            # retries ran out before it claimed them (engpass.digest.sweep). Runs piled up during an outage are
            # redundant: the next one finds everything.
            "digest-sweep": {
                "task": task_names.SWEEP_DIGESTS,
                "schedule": float(settings.digest_sweep_interval_seconds),
                "options": {"expires": float(settings.digest_sweep_interval_seconds)},
            },
            # Webhook deliveries that nothing is working on: a lost message, a dead worker's claim.
            "webhooks-sweep": {
                "task": task_names.SWEEP_WEBHOOKS,
                "schedule": WEBHOOKS_SWEEP_INTERVAL,
                "options": {"expires": WEBHOOKS_SWEEP_INTERVAL},
            },
            # Hourly: a data export is downloadable for 24 hours, then its file and row go.
            "exports-clean-up": {
                "task": task_names.CLEAN_UP_EXPORTS,
                "schedule": crontab(minute=23),
                "options": {"expires": 3000},
            },
            # Nightly, so a new week gets its snapshot even where nothing changed.
            "trends-nightly": {
                "task": task_names.RECOMPUTE_ALL_TRENDS,
                "schedule": crontab(hour=2, minute=15),
                "options": {"expires": 6 * 3600},
            },
        },
    )
    if embedded_broker.is_embedded(settings.broker_url):
        celery.conf.beat_schedule["embedded-broker-tidy"] = {
            "task": task_names.TIDY_EMBEDDED_BROKER,
            "schedule": crontab(minute=41),
            "options": {"expires": 3000},
        }
    return celery


@worker_process_init.connect
def _dispose_engine_after_fork(**_kwargs: Any) -> None:
    # Forked children must not share the parent's pooled connections; close=False leaves the
    # parent's connections alone instead of closing them from the child.
    if db.engine is not None:
        db.engine.dispose(close=False)
