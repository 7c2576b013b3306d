"""Tasks about e-mail notifications."""

from __future__ import annotations

from celery import shared_task

from engpass import task_names
from engpass.db import db
from engpass.notifications.resend import resend_due


@shared_task(name=task_names.RESEND_MAIL)
def resend() -> int:
    return resend_due(db.session())
