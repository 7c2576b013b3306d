"""Tasks about accounts."""

from __future__ import annotations

from celery import shared_task

from engpass import task_names
from engpass.accounts.welcome import send_welcome as send_welcome_mail
from engpass.db import db


@shared_task(name=task_names.SEND_WELCOME, max_retries=5, default_retry_delay=60)
def send_welcome(org_id: int, user_id: int) -> bool:
    return send_welcome_mail(db.session, org_id, user_id)
