"""The e-mail to the owner of an address someone tried to sign up with.

The sign-up answers an address that has an account exactly like a new one, so the page tells nobody who
has an account (docs/security.md); the owner hears it by e-mail instead, with the links to log in and to
reset the password. Sent by a worker through the send log under (user, ``signup_attempt``, the UTC day):
at most one a day, however often someone tries, and sent again by the resend sweep after a temporary
failure.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from engpass import task_names
from engpass.accounts.models import User
from engpass.db import utcnow
from engpass.notifications import sendlog
from engpass.notifications.links import external_url
from engpass.notifications.messages import compose
from engpass.notifications.models import SendLog
from engpass.outbox.service import enqueue
from engpass.settings import Settings

KIND = "signup_attempt"


def note_attempt(session: Session, user: User, today: date | None = None) -> None:
    """Record the work in the request's transaction (the caller commits): the mail goes out once a day."""
    day = (today or utcnow().date()).isoformat()
    enqueue(session, task_names.SEND_SIGNUP_NOTICE, user_id=user.id, day=day)


def send_notice(session: Session, user_id: int, day: str) -> bool:
    """Send the day's notice unless another delivery did; True when this call sent it."""
    user = session.get(User, user_id)
    entry = None if user is None else sendlog.claim(session, user_id, KIND, day)
    if user is None or entry is None:
        session.rollback()
        return False
    # Committed before anything is sent: every other delivery of this day's notice finds the claim.
    session.commit()
    settings: Settings = current_app.extensions["engpass.settings"]
    message = compose(
        user,
        _l("Someone tried to sign up with your address"),
        "signup_attempt",
        topic=None,
        settings=settings,
        login=external_url(settings, "accounts.login"),
        reset=external_url(settings, "accounts.forgot_password"),
    )
    return sendlog.send_one(session, entry, message, settings)


def resend(session: Session, entry: SendLog) -> bool:
    """The resend sweep's builder for ``signup_attempt`` rows."""
    return send_notice(session, entry.user_id, entry.period)
