"""Tasks about accounts."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError

from engpass import task_names
from engpass.accounts.welcome import send_welcome as send_welcome_mail
from engpass.db import db


@shared_task(
    name=task_names.SEND_WELCOME,
    # A database that went away; send_welcome is idempotent, so retrying is safe. Mail that could
    # not be delivered is not an error here: the send log keeps it for the resend sweep.
    autoretry_for=(OperationalError,),
    max_retries=5,
    retry_backoff=30,
    retry_backoff_max=600,
)
def send_welcome(org_id: int, user_id: int) -> bool:
    return send_welcome_mail(db.session(), org_id, user_id)
