"""The welcome e-mail after sign-up, sent by a worker."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import mail
from engpass.accounts.models import User
from engpass.audit.models import AuditEvent
from engpass.audit.service import record
from engpass.organizations.models import Organization

ACTION = "welcome.sent"


def send_welcome(session: Session, org_id: int, user_id: int) -> bool:
    """Send once per user and organization; a retried task finds the audit entry and stops."""
    already = session.scalar(
        select(AuditEvent.id).where(AuditEvent.action == ACTION, AuditEvent.object_id == user_id).limit(1)
    )
    user = session.get(User, user_id)
    org = session.get(Organization, org_id)
    if already is not None or user is None or org is None:
        return False
    record(session, ACTION, actor_id=None, object_type="user", object_id=user_id)
    session.flush()
    base_url = current_app.extensions["engpass.settings"].base_url.rstrip("/")
    with force_locale(user.locale), current_app.test_request_context(base_url=base_url):
        link = base_url + url_for("organizations.home", org_slug=org.slug)
        message = mail.render_mail(user.email, _("Welcome to Engpass"), "welcome", user=user, org=org, link=link)
    mail.send(message)
    session.commit()
    return True
