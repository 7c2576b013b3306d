"""The welcome e-mail after sign-up, sent by a worker."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.models import User
from engpass.notifications import sendlog
from engpass.notifications.links import external_url
from engpass.notifications.messages import compose
from engpass.notifications.models import SendLog
from engpass.organizations.models import Organization
from engpass.settings import Settings

KIND = "welcome"


def send_welcome(session: Session, org_id: int, user_id: int) -> bool:
    """Send once per user and organization — the send log's key is (user, ``welcome``, org id) —
    also when the task is delivered twice at the same time. True when this call sent it.

    A temporary failure leaves the key due for a later attempt, which the resend sweep makes
    (``notifications.resend``); see ``notifications.sendlog`` for the protocol and its window.
    """
    with tenancy.tenant_context(session, org_id):
        user = session.get(User, user_id)
        org = session.get(Organization, org_id)
        entry = None if user is None or org is None else sendlog.claim(session, user_id, KIND, str(org_id))
        if user is None or org is None or entry is None:
            session.rollback()
            return False
        # Committed before anything is sent: from here on, every other delivery of this task finds the claim.
        session.commit()
        settings: Settings = current_app.extensions["engpass.settings"]
        link = external_url(settings, "organizations.home", org_slug=org.slug)
        message = compose(user, _l("Welcome to Engpass"), "welcome", topic=None, settings=settings, org=org, link=link)
        return sendlog.send_one(session, entry, message, settings)


def resend(session: Session, entry: SendLog) -> bool:
    """The resend sweep's hook: the row's period is the organization's id."""
    return send_welcome(session, int(entry.period), entry.user_id)
