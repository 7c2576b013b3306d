"""Tasks about accounts."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError

from engpass import task_names
from engpass.accounts.signup_notice import send_notice
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


@shared_task(
    name=task_names.SEND_SIGNUP_NOTICE,
    # Like the welcome: idempotent per day, a failed mail waits in the send log for the resend sweep.
    autoretry_for=(OperationalError,),
    max_retries=5,
    retry_backoff=30,
    retry_backoff_max=600,
)
def send_signup_notice(user_id: int, day: str) -> bool:
    return send_notice(db.session(), user_id, day)
