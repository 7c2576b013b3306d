"""The welcome e-mail after sign-up, sent by a worker."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engpass import mail, tenancy
from engpass.accounts.models import User
from engpass.audit.models import AuditEvent
from engpass.audit.service import record
from engpass.organizations.models import Organization

ACTION = "welcome.sent"


def send_welcome(session: Session, org_id: int, user_id: int) -> bool:
    """Send once per user and organization, also when the task is delivered twice at the same time.

    The audit entry is the send log. Two deliveries are kept apart twice over: the user's row
    is locked (PostgreSQL), and the entry is written before it is counted, so that on SQLite,
    which has no row locks, the second delivery waits for the first one's write lock and then
    counts two entries. A crash between sending and committing can still send twice; SMTP
    gives no way to send and commit at once.
    """
    with tenancy.tenant_context(session, org_id):
        user = session.scalars(select(User).where(User.id == user_id).with_for_update()).first()
        org = session.get(Organization, org_id)
        if user is None or org is None:
            session.rollback()
            return False
        record(session, ACTION, actor_id=None, object_type="user", object_id=user_id)
        session.flush()
        sent = session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == ACTION, AuditEvent.object_type == "user", AuditEvent.object_id == user_id
            )
        )
        if sent != 1:
            session.rollback()
            return False
        base_url = current_app.extensions["engpass.settings"].base_url.rstrip("/")
        with force_locale(user.locale), current_app.test_request_context(base_url=base_url):
            link = base_url + url_for("organizations.home", org_slug=org.slug)
            message = mail.render_mail(user.email, _("Welcome to Engpass"), "welcome", user=user, org=org, link=link)
        mail.send(message)
        session.commit()
        return True
