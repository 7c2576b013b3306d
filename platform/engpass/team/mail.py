"""The invitation e-mail, sent by a worker.

Not through the send log: its key is a user, and the invited person usually has no account yet.
The invitation row is its own log instead: ``issue_token`` claims the send round with a conditional
UPDATE (one of two deliveries of the same task wins; a stale round after a resend does nothing),
and the result is written back at once. A temporary failure releases the token, and the task
retries (``workers/tasks/team.py``); a permanent one is shown on the team page, where an admin can
correct the address or resend.
"""

from __future__ import annotations

import enum

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.models import User
from engpass.accounts.service import find_user
from engpass.db import utcnow
from engpass.i18n import recipient_language, role_label
from engpass.mail import Mailer, OutgoingMail, SendResult, build_message, render_mail
from engpass.notifications.links import external_url
from engpass.organizations.models import Organization
from engpass.settings import Settings
from engpass.team import service
from engpass.team.models import Invitation


class Outcome(enum.StrEnum):
    sent = "sent"
    skipped = "skipped"  # another delivery sent it, or it was resent, accepted or cancelled meanwhile
    retry = "retry"  # the mail server asked to try later
    failed = "failed"  # refused for good


def send_invitation(session: Session, org_id: int, invitation_id: int, send_round: int) -> Outcome:
    with tenancy.tenant_context(session, org_id):
        invitation = session.get(Invitation, invitation_id)
        org = session.get(Organization, org_id)
        if invitation is None or org is None or invitation.send_round != send_round or not invitation.is_open:
            session.rollback()
            return Outcome.skipped
        token = service.issue_token(session, invitation)
        if token is None:
            session.rollback()
            return Outcome.skipped
        # Committed before anything is sent: every other delivery of this round now finds the claim.
        session.commit()
        settings: Settings = current_app.extensions["engpass.settings"]
        try:
            message = compose_invitation(session, settings, org, invitation, token)
        except ValueError as exc:
            # A mail that cannot even be written (a header the wire refuses) fails for good, and says why on
            # the team page, instead of staying "being sent" for ever.
            with recipient_language(org.locale, org.timezone):
                reason = _("The e-mail could not be written: %(error)s", error=str(exc))
            result = SendResult(ok=False, permanent=True, error=reason)
        else:
            with Mailer(settings) as mailer:
                result = mailer.send(message)
        if result.ok:
            invitation.sent_at = utcnow()
            invitation.mail_error = None
            outcome = Outcome.sent
        elif result.permanent:
            invitation.mail_error = result.error[:2000]
            outcome = Outcome.failed
        else:
            service.release_token(session, invitation, result.error)
            outcome = Outcome.retry
        session.commit()
        return outcome


def compose_invitation(
    session: Session, settings: Settings, org: Organization, invitation: Invitation, token: str
) -> OutgoingMail:
    """The mail in the invitee's language when they have an account, else the organization's."""
    account: User | None = find_user(session, invitation.email)
    inviter = session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    locale = account.locale if account else org.locale
    timezone = account.timezone if account else org.timezone
    link = external_url(settings, "team_public.accept", token=token)
    with current_app.test_request_context(base_url=settings.base_url), recipient_language(locale, timezone):
        mail = render_mail(
            invitation.email,
            str(
                _l(
                    "%(name)s invites you to %(org)s on Engpass",
                    name=inviter.name if inviter else org.name,
                    org=org.name,
                )
            ),
            "invitation",
            org=org,
            inviter=inviter,
            role=role_label(invitation.role),
            link=link,
            expires_at=invitation.expires_at,
            has_account=account is not None,
            links=None,
        )
    return build_message(mail, settings.mail_from)
