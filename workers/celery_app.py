"""Celery configured from the platform's settings, with tasks that run inside the Flask app."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask

from engpass import task_names, tenancy
from engpass.db import db
from engpass.settings import Settings

TASK_MODULES = ["workers.tasks.accounts", "workers.tasks.outbox"]


class AppTask(Task):
    """Runs every task in the app context and, given ``org_id``, inside that organization.

    Arguments are ids, never ORM objects: JSON in, and the task loads fresh state.
    """

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        flask_app: Flask = self.app.flask_app
        with flask_app.app_context():
            org_id = kwargs.get("org_id")
            if org_id is not None:
                tenancy.activate(db.session, int(org_id))
            return super().__call__(*args, **kwargs)


def make_celery(flask_app: Flask) -> Celery:
    settings: Settings = flask_app.extensions["engpass.settings"]
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
        worker_prefetch_multiplier=1,
        task_soft_time_limit=240,
        task_time_limit=300,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        beat_schedule={
            "outbox-sweep": {"task": task_names.OUTBOX_SWEEP, "schedule": 30.0},
        },
    )
    return celery


@worker_process_init.connect
def _dispose_engine_after_fork(**_kwargs: Any) -> None:
    # Forked children must not share the parent's pooled connections.
    if db.engine is not None:
        db.engine.dispose(close=False)
