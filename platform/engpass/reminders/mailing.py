"""The reminder e-mails: each open reminder reaches whoever acts on it, at most once per rule and period.

One organization at a time (``send_reminders``), inside its tenant context: its open reminders by its
own calendar, who each one is addressed to (``rules.addressed_to``), and **one message per recipient**
that lists everything newly due for them there — users asked for one clean list rather than more
e-mail. Every reminder is a send-log key (user, ``reminder.<rule>``, period): all of a recipient's keys
are claimed and committed before their message goes out, and its result is recorded on each of them
(the protocol of ``notifications.sendlog``). A key claimed or sent before is not repeated, and a
recipient with nothing new gets nothing, so a run can be repeated at any time. ``resend`` sends again
what failed for now. When the workers run this, and why then: docs/reminders.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, url_for
from flask_babel import ngettext
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.models import User
from engpass.formatting import day
from engpass.i18n import today_in, zone_named
from engpass.mail import Mailer, OutgoingMail
from engpass.notifications import sendlog
from engpass.notifications.messages import compose
from engpass.notifications.models import SendLog
from engpass.notifications.preferences import Topic, preferences_of
from engpass.organizations import memberships
from engpass.organizations.context import ROLE_RANK
from engpass.organizations.models import Membership, Organization, Role
from engpass.reminders.rules import Reminder, addressed_to, open_reminders
from engpass.reminders.texts import ACTION_LABELS, RULE_LABELS, describe
from engpass.settings import Settings
from engpass.webhooks.summaries import announce_overdue

log = logging.getLogger(__name__)

# The organization's local hour in which the scheduler sends its reminders: the start of a working day.
MORNING_HOUR = 7

# What ``last_error`` says of a row the resend sweep will not send (its status is ``failed``).
GIVEN_UP_RESOLVED = "given up: resolved, or no longer addressed to this user, before it could be sent again"
GIVEN_UP_SWITCHED_OFF = "given up: the user switched reminders off before it could be sent again"


@dataclass(frozen=True)
class Line:
    """One reminder as the e-mail shows it."""

    reminder: Reminder
    # Absolute: the form that resolves it, or for a viewer (who may not use the forms) the cycle
    # page at the section that shows what is missing.
    url: str


def _subject(org_name: str, lines: list[Line]) -> str:
    """Called by ``compose`` in the recipient's language."""
    if len(lines) == 1:
        reminder = lines[0].reminder
        return f"{org_name}: {RULE_LABELS[reminder.rule]} – {reminder.cycle_title}"
    return ngettext(
        "%(org)s: %(num)d item is waiting for you",
        "%(org)s: %(num)d items are waiting for you",
        len(lines),
        org=org_name,
    )


def compose_reminders(
    user: User, org: Organization, role: Role, reminders: list[Reminder], settings: Settings
) -> OutgoingMail:
    """One message to ``user`` listing ``reminders`` of ``org``, in their language; needs an application context."""
    can_act = ROLE_RANK[role] >= ROLE_RANK[Role.member]
    # Built with the reminder's own URL methods, so the mail links exactly where the to-do list does.
    with current_app.test_request_context(base_url=settings.base_url):
        lines = [
            Line(
                reminder,
                reminder.form_url(org_slug=org.slug, _external=True)
                if can_act
                else reminder.section_url(org_slug=org.slug, _external=True),
            )
            for reminder in reminders
        ]
        todo_url = url_for("reminders.todo", org_slug=org.slug, _external=True)
    return compose(
        user,
        LazyString(_subject, org.name, lines),
        "reminders",
        topic=Topic.reminders,
        settings=settings,
        org=org,
        lines=lines,
        can_act=can_act,
        todo_url=todo_url,
        # Called while the template renders, that is in the recipient's language.
        describe=describe,
        rule_label=lambda rule: str(RULE_LABELS[rule]),
        action_label=lambda rule: str(ACTION_LABELS[rule]),
        day=day,
    )


def _send(
    session: Session,
    mailer: Mailer,
    settings: Settings,
    org: Organization,
    user: User,
    role: Role,
    reminders: list[Reminder],
) -> bool:
    """Claim every reminder's key, commit, send one message with those this call got, record, commit."""
    claimed: list[tuple[Reminder, SendLog]] = []
    for reminder in reminders:
        entry = sendlog.claim(session, user.id, reminder.kind, reminder.period)
        if entry is not None:
            claimed.append((reminder, entry))
    # Committed before anything is sent: from here on every other run finds these keys taken.
    session.commit()
    if not claimed:
        return False
    message = compose_reminders(user, org, role, [reminder for reminder, _entry in claimed], settings)
    result = mailer.send(message)
    for _reminder, entry in claimed:
        sendlog.record(session, entry, result)
    session.commit()
    return result.ok


def _send_due(session: Session, org_id: int, now_utc: datetime, settings: Settings) -> int:
    org = session.get(Organization, org_id)
    if org is None:
        return 0
    today = today_in(org.timezone, now_utc)
    reminders = open_reminders(session, today)
    if not reminders:
        return 0
    # Written with the first claims' commit below, or the run's last one.
    announce_overdue(session, org, reminders, today, settings)
    sent = 0
    # One connection for the organization's messages, opened only when there is one to send.
    with Mailer(settings) as mailer:
        for membership in memberships.with_users(session, org_id):
            theirs = [r for r in reminders if addressed_to(r, membership.user_id, membership.role)]
            if theirs and preferences_of(session, membership.user).reminders_enabled:
                sent += _send(session, mailer, settings, org, membership.user, membership.role, theirs)
    return sent


def send_reminders(session: Session, org_id: int, now_utc: datetime, settings: Settings) -> int:
    """E-mail one organization's newly due reminders, one message per recipient; how many went out.

    Needs an application context; commits as it goes. Safe to repeat, and to run in several workers at
    once: the send log lets exactly one of them send each reminder.
    """
    with tenancy.tenant_context(session, org_id):
        sent = _send_due(session, org_id, now_utc, settings)
        # Claims and results were committed as they happened; this ends the last read, whose transaction
        # would hold SQLite's write lock.
        session.commit()
    return sent


@dataclass
class Round:
    """What ``send_round`` did: the mails that went out, the organizations that failed."""

    sent: int = 0
    failed: list[int] = field(default_factory=list)


def send_round(session: Session, org_ids: list[int], now_utc: datetime, settings: Settings) -> Round:
    """``send_reminders`` for each organization in turn; one that fails is logged and named, the rest go on."""
    result = Round()
    for org_id in org_ids:
        try:
            result.sent += send_reminders(session, org_id, now_utc, settings)
        except Exception:
            # One organization's broken data, or a connection lost in the middle, must not keep the others'
            # reminders back; the caller tries the failed ones again, and the send log skips what went out.
            log.exception("reminders of organization %s failed", org_id)
            session.rollback()
            result.failed.append(org_id)
        # Nothing loaded under one organization may be answered from the identity map under the next.
        session.expunge_all()
    return result


def in_their_morning(session: Session, now_utc: datetime) -> list[int]:
    """The organizations whose local clock shows ``MORNING_HOUR`` at ``now_utc``, by id."""
    rows = session.execute(select(Organization.id, Organization.timezone).order_by(Organization.id))
    return [org_id for org_id, timezone in rows if now_utc.astimezone(zone_named(timezone)).hour == MORNING_HOUR]


# --- sending again what failed for now ---------------------------------------------------------------


def _where_open(session: Session, user: User, kind: str, period: str) -> tuple[Membership, list[Reminder]] | None:
    """The user's membership where the reminder of this key is open and theirs, with all of theirs there.

    A period names a cycle, but not its organization, which only a tenant context can read: so each of
    the user's organizations is asked, one query each.
    """
    for membership in memberships.memberships_of(session, user.id):
        org = membership.organization
        with tenancy.tenant_context(session, org.id):
            reminders = open_reminders(session, today_in(org.timezone))
        theirs = [r for r in reminders if addressed_to(r, user.id, membership.role)]
        if any(r.kind == kind and r.period == period for r in theirs):
            return membership, theirs
    return None


def _in_send_log(session: Session, user_id: int, reminders: list[Reminder]) -> list[Reminder]:
    """Those of ``reminders`` whose keys have a send-log row: what earlier messages carried, not new ones."""
    rows = session.execute(
        select(SendLog.kind, SendLog.period).where(
            SendLog.user_id == user_id, SendLog.period.in_({r.period for r in reminders})
        )
    )
    keys = {(kind, period) for kind, period in rows}
    return [r for r in reminders if (r.kind, r.period) in keys]


def resend(session: Session, entry: SendLog) -> bool:
    """The resend sweep's builder for ``reminder.*`` rows (``notifications.resend``); True when it sent.

    The message goes out again as it was bundled: with this key, every other key of the same recipient
    and organization that waits in the send log is claimed too, so a failed bundle of three is sent again
    as one mail, not three. Reminders that opened since are left to the next morning's run.

    A reminder that was resolved meanwhile, or is no longer this user's (another owner, the user left
    the organization), or whose recipient switched reminders off, is not sent: its row becomes
    ``failed`` with the reason in ``last_error`` — how ``sendlog.give_up_abandoned`` records a mail that
    will never go out — so the sweep does not return to it.
    """
    user = session.get(User, entry.user_id)
    if user is None:
        # The user's send-log rows went with them.
        return False
    found = _where_open(session, user, entry.kind, entry.period)
    if found is None:
        return sendlog.give_up(session, entry, GIVEN_UP_RESOLVED)
    membership, theirs = found
    if not preferences_of(session, user).reminders_enabled:
        return sendlog.give_up(session, entry, GIVEN_UP_SWITCHED_OFF)
    settings: Settings = current_app.extensions["engpass.settings"]
    waiting = _in_send_log(session, user.id, theirs)
    with Mailer(settings) as mailer:
        return _send(session, mailer, settings, membership.organization, user, membership.role, waiting)
