"""Tasks of the team: the invitation e-mail."""

from __future__ import annotations

from celery import Task, shared_task
from sqlalchemy.exc import OperationalError

from engpass import task_names
from engpass.db import db
from engpass.team.mail import Outcome
from engpass.team.mail import send_invitation as send_invitation_mail

# A temporary SMTP failure is tried again after five minutes, six times (about half an hour in all);
# after that the team page shows the invitation as not sent, and an admin can resend it.
RETRY_DELAY = 300
MAX_RETRIES = 6


@shared_task(
    name=task_names.SEND_INVITATION,
    bind=True,
    autoretry_for=(OperationalError,),
    max_retries=MAX_RETRIES,
    default_retry_delay=RETRY_DELAY,
)
def send_invitation(self: Task, org_id: int, invitation_id: int, send_round: int) -> str:
    outcome = send_invitation_mail(db.session(), org_id, invitation_id, send_round)
    if outcome == Outcome.retry:
        raise self.retry(exc=RuntimeError(f"invitation {invitation_id}: the mail server asked to try later"))
    return outcome.value
