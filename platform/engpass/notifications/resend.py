"""Sending again what a temporary failure or a dead worker left unsent.

A beat task (``engpass.notifications.resend``, every few minutes) calls ``resend_due``: every
send-log row that ``claim()`` would hand out again goes to the function that builds that kind
of mail, which claims the key itself — so two sweeps, or a sweep and a late delivery of the
original task, still send it once. The digest, the reminders, the data export, the token and the
sign-up notices add their function to ``RESENDERS``; a kind without one is left for its own scheduler to pick up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from engpass.accounts.signup_notice import KIND as SIGNUP_ATTEMPT
from engpass.accounts.signup_notice import resend as resend_signup_notice
from engpass.accounts.welcome import KIND as WELCOME
from engpass.accounts.welcome import send_welcome
from engpass.digest.sending import KIND_PREFIX as DIGEST
from engpass.digest.sending import resend as resend_digest
from engpass.exports.mail import KIND as DATA_EXPORT
from engpass.exports.mail import resend as resend_export
from engpass.notifications import sendlog
from engpass.notifications.models import SendLog
from engpass.reminders.mailing import resend as resend_reminder
from engpass.reminders.rules import KIND_PREFIX as REMINDER
from engpass.tokens.mail import KIND as TOKEN_REVOKED
from engpass.tokens.mail import resend as resend_token_revoked

log = logging.getLogger(__name__)

Resender = Callable[[Session, SendLog], bool]


def _welcome(session: Session, entry: SendLog) -> bool:
    return send_welcome(session, int(entry.period), entry.user_id)


# A kind, or the part of a kind up to and including its first dot ("reminder." for every reminder rule,
# "digest." for every organization's digest).
RESENDERS: dict[str, Resender] = {
    WELCOME: _welcome,
    SIGNUP_ATTEMPT: resend_signup_notice,
    REMINDER: resend_reminder,
    DIGEST: resend_digest,
    DATA_EXPORT: resend_export,
    TOKEN_REVOKED: resend_token_revoked,
}


def resender_for(kind: str) -> Resender | None:
    if kind in RESENDERS:
        return RESENDERS[kind]
    prefix, dot, _rest = kind.partition(".")
    return RESENDERS.get(prefix + dot) if dot else None


def resend_due(session: Session, *, limit: int = 100) -> int:
    """Send the due rows again; how many were sent."""
    sendlog.give_up_abandoned(session)
    entries = sendlog.due(session, limit=limit)
    session.commit()
    sent = 0
    for entry in entries:
        resend = resender_for(entry.kind)
        if resend is None:
            log.warning("no resender for send-log kind %r (row %s)", entry.kind, entry.id)
            continue
        sent += bool(resend(session, entry))
    return sent
