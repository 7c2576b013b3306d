"""Tasks of the API tokens: telling a holder that an admin revoked their token."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError

from engpass import task_names
from engpass.db import db
from engpass.tokens.mail import send_revoked_notice


@shared_task(
    name=task_names.NOTIFY_TOKEN_REVOKED,
    # A database that went away; the send log makes a retry safe. A mail the server delays is not an error
    # here: the send log keeps it for the resend sweep.
    autoretry_for=(OperationalError,),
    max_retries=5,
    retry_backoff=30,
    retry_backoff_max=600,
)
def notify_revoked(org_id: int, token_id: int) -> bool:
    return send_revoked_notice(db.session(), org_id, token_id)
