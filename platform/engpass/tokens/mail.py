"""The e-mail to a token's holder when an admin or owner revoked it: their script stops working, and they should
hear why from us rather than from a failing integration.

Sent by a worker (``workers/tasks/tokens.py``, enqueued through the outbox by the revocation) through the send log
under (holder, ``api_token_revoked``, ``<organization id>:<token id>``): once, also when the task is delivered
twice; a temporary failure is sent again by the resend sweep, unless the holder left the organization meanwhile.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.models import User
from engpass.audit.models import AuditEvent
from engpass.notifications import sendlog
from engpass.notifications.links import external_url
from engpass.notifications.messages import compose
from engpass.notifications.models import SendLog
from engpass.organizations.memberships import role_of
from engpass.organizations.models import Organization
from engpass.settings import Settings
from engpass.tokens.models import ApiToken

KIND = "api_token_revoked"


def _holder(session: Session, api_token: ApiToken | None) -> User | None:
    """The token's holder while they are still a member: a former member has no token page to go to."""
    if api_token is None or api_token.revoked_at is None:
        return None
    if role_of(session, api_token.user_id, api_token.organization_id) is None:
        return None
    return session.get(User, api_token.user_id)


def _revoker(session: Session, token_id: int) -> User | None:
    """Who revoked the token, as the audit log recorded it."""
    actor_id = session.scalar(
        select(AuditEvent.actor_id)
        .where(AuditEvent.action == "api_token.revoked", AuditEvent.object_id == token_id)
        .order_by(AuditEvent.id.desc())
    )
    return None if actor_id is None else session.get(User, actor_id)


def send_revoked_notice(session: Session, org_id: int, token_id: int) -> bool:
    """Tell the holder that their token was revoked, and by whom; True when this call sent it."""
    with tenancy.tenant_context(session, org_id):
        api_token = session.get(ApiToken, token_id)
        holder = _holder(session, api_token)
        org = session.get(Organization, org_id)
        if holder is None or org is None or api_token is None:
            session.rollback()
            return False
        entry = sendlog.claim(session, holder.id, KIND, sendlog.org_period(org_id, token_id))
        if entry is None:
            session.rollback()
            return False
        # Committed before anything is sent: every other delivery of the task now finds the claim.
        session.commit()
        revoker = _revoker(session, token_id)
        settings: Settings = current_app.extensions["engpass.settings"]
        message = compose(
            holder,
            _l("Your API token “%(name)s” for %(org)s was revoked", name=api_token.name, org=org.name),
            "api_token_revoked",
            topic=None,
            settings=settings,
            org=org,
            token=api_token,
            revoker=revoker,
            link=external_url(settings, "tokens.index", org_slug=org.slug),
        )
        return sendlog.send_one(session, entry, message, settings)


def resend(session: Session, entry: SendLog) -> bool:
    """The resend sweep's builder for ``api_token_revoked`` rows."""
    org_id, token_id = sendlog.split_org_period(entry.period)
    with tenancy.tenant_context(session, org_id):
        api_token = session.get(ApiToken, token_id)
        gone = _holder(session, api_token) is None
        session.rollback()
    if gone:
        return sendlog.give_up(session, entry, "the holder is no longer a member")
    return send_revoked_notice(session, org_id, token_id)
