"""Sending weekly digests: who is due, one e-mail per user and organization, exactly once — and to a
consultant one e-mail across every client they reach, instead of one per client.

Each digest has a send-log key (user, ``digest.<org id>`` or ``digest.clients``, ISO week of the
reader's local day):
claimed and committed before the message leaves (a batch's keys in one statement), recorded
right after each message, so a redelivered task, a second scheduler or the resend sweep never
send a key twice (docs/email.md names the one window SMTP leaves open). A batch shares one
SMTP connection, and the part of a digest that is the same for every member of an
organization is read once per batch, organization and week, whatever its readers' time zones and
languages; each reader's part (to-dos, greeting, language, links) is their own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import astuple, dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Self

import redis
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.models import User
from engpass.consulting.service import clients_of, clients_of_users
from engpass.digest import content
from engpass.digest.mail import ClientWeek, DigestPages, TodoLine, compose_clients_digest, compose_digest
from engpass.i18n import today_in
from engpass.mail import Mailer, OutgoingMail, SendResult
from engpass.notifications import sendlog
from engpass.notifications.links import external_url
from engpass.notifications.messages import mail_context
from engpass.notifications.models import SendLog
from engpass.notifications.preferences import (
    Preferences,
    digest_period,
    digest_readers,
    due_for_digest,
    preferences_of,
    users_due_for_digest,
)
from engpass.organizations.memberships import role_of
from engpass.organizations.models import Membership, Organization, OrgKind, Role
from engpass.organizations.permissions import Action, allows
from engpass.reminders.decisions import WaitingDecision, waiting
from engpass.reminders.decisions import addressed_to as decisions_for
from engpass.reminders.rules import Reminder, Situation, addressed_to, evaluate, load_many
from engpass.reminders.texts import describe
from engpass.settings import Settings
from engpass.webhooks.events import EventType, subscribed_organizations
from engpass.webhooks.summaries import announce_week

log = logging.getLogger(__name__)

KIND_PREFIX = "digest."
# A consultant's one digest across all their clients (the others are ``digest.<organization id>``).
CLIENTS_KIND = f"{KIND_PREFIX}clients"
# The to-do part of a digest lists the most urgent items; the to-do page has the rest.
TODO_LINES = 8
# Users by the first organization each belongs to, then by id: cut into batches, an organization's readers share
# a batch, and with it the organization's part of the digest, instead of each batch reading it again. Users
# without an organization (a consultant reaching clients only) come last.
_FIRST_ORG = select(func.min(Membership.organization_id)).where(Membership.user_id == User.id).scalar_subquery()
BY_ORGANIZATION = (_FIRST_ORG.is_(None), _FIRST_ORG, User.id)
DECISION_DUE = _l("The result is measured: your decision as sponsor is due.")


def kind_for(org_id: int) -> str:
    return f"{KIND_PREFIX}{org_id}"


def week_of_period(period: str) -> tuple[date, date]:
    """The week a digest of ``period`` (the ISO week it is sent in, ``2026-W49``) describes: the one before."""
    year, _, week = period.partition("-W")
    return content.previous_week(date.fromisocalendar(int(year), int(week), 1))


@dataclass
class _ZonePart:
    """One organization's digest as readers in one time zone see the week, and what was rendered of it."""

    digest: content.OrgDigest
    # The parts of the e-mail rendered so far, by part and language (``compose_digest``).
    rendered: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass
class _OrgPart:
    """What the digests of one organization and week share within a batch: read once, whatever the readers'
    time zones and languages (each zone's week is cut from ``week`` without a query)."""

    week: content.OrgWeek
    reminders: list[Reminder]
    # The measured, undecided cycles: each reader's "as sponsor" block (reminders/decisions.py).
    decisions: list[WaitingDecision]
    # A chat channel listens for the weekly summary, which the batch has not yet written.
    announce: bool = False
    zones: dict[str, _ZonePart] = field(default_factory=dict)

    def in_zone(self, timezone: str) -> _ZonePart:
        if timezone not in self.zones:
            self.zones[timezone] = _ZonePart(self.week.in_zone(timezone))
        return self.zones[timezone]


@dataclass
class _Batch:
    """What one batch computes once and reuses: each organization's part per week, for all its readers in the
    batch, the consultants' per-client lines included."""

    session: Session
    settings: Settings
    parts: dict[tuple[int, date], _OrgPart] = field(default_factory=dict)

    def read(self, orgs: Iterable[Organization], first: date, last: date) -> None:
        """The parts of ``orgs`` for the week from ``first`` that the batch has not read yet: the stored weeks,
        the open cycles (for the reminders and the decisions waiting) and which have a chat channel listening,
        one statement each for all of them (``tenancy.reading``). Only an organization whose week is not
        stored, or in the week of the quarter's question, reads on in its own context."""
        todo = {org.id: org for org in orgs if (org.id, first) not in self.parts}
        if not todo:
            return
        with tenancy.reading(self.session, todo):
            situations = load_many(self.session)
            chats = subscribed_organizations(self.session, EventType.digest_weekly)
        weeks = content.current_weeks(self.session, todo, first, last)
        for org_id, org in todo.items():
            situation = situations.get(org_id, Situation([], None))
            self.parts[org_id, first] = _OrgPart(
                weeks[org_id], evaluate(situation, today_in(org.timezone)), waiting(situation), announce=org_id in chats
            )

    def org_part(self, org: Organization, first: date, last: date, timezone: str) -> tuple[_OrgPart, _ZonePart]:
        """``org``'s part of the week from ``first``, and the week as readers in ``timezone`` see it."""
        self.read([org], first, last)
        part = self.parts[org.id, first]
        if part.announce:
            part.announce = False
            # The chat channels' weekly summary tells the week as its first reader's time zone sees it.
            with tenancy.tenant_context(self.session, org.id):
                if announce_week(self.session, org, part.in_zone(timezone).digest, self.settings) is not None:
                    # The batch's session otherwise only reads: its one write is committed at once.
                    self.session.commit()
        return part, part.in_zone(timezone)


def _todo(settings: Settings, org: Organization, reminders: list[Reminder], user_id: int, role: Role) -> list[TodoLine]:
    mine = [r for r in reminders if addressed_to(r, user_id, role)]
    return [
        TodoLine(
            cycle_title=r.cycle_title,
            # Worded when the e-mail is rendered, in the reader's language.
            what=LazyString(partial(describe, r)),
            since=r.since,
            url=external_url(settings, r.endpoint, org_slug=org.slug, cycle_id=r.cycle_id, _anchor=r.anchor),
        )
        for r in mine[:TODO_LINES]
    ]


def _decisions(
    settings: Settings, org: Organization, decisions: list[WaitingDecision], user_id: int, role: Role
) -> list[TodoLine]:
    return [
        TodoLine(
            cycle_title=d.cycle_title,
            what=DECISION_DUE,
            since=d.last_measured,
            url=external_url(settings, "cycles.decision", org_slug=org.slug, cycle_id=d.cycle_id),
        )
        for d in decisions_for(decisions, user_id, role)[:TODO_LINES]
    ]


def _compose(
    batch: _Batch, user: User, org: Organization, role: Role, prefs: Preferences, period: str, *, again: bool = False
) -> OutgoingMail | None:
    """The digest of ``org`` for ``user`` for ``period``, or None when there is nothing to say. ``again``: a retry
    of a digest that was meant to go out, which goes out even if the week has since become empty."""
    settings = batch.settings
    first, last = week_of_period(period)
    part, zoned = batch.org_part(org, first, last, prefs.timezone)
    todo = _todo(settings, org, part.reminders, user.id, role)
    decisions = _decisions(settings, org, part.decisions, user.id, role)
    # An organization that has not begun has nothing to report; its members are not written to.
    if zoned.digest.is_empty and not todo and not decisions and not again:
        return None
    pages = DigestPages(
        dashboard=external_url(settings, "organizations.home", org_slug=org.slug),
        todo=external_url(settings, "reminders.todo", org_slug=org.slug),
        propose=external_url(settings, "candidates.new", org_slug=org.slug)
        if allows(role, Action.propose_candidate)
        else None,
    )
    return compose_digest(user, org, zoned.digest, todo, pages, settings, rendered=zoned.rendered, decisions=decisions)


def _compose_for_clients(
    batch: _Batch,
    user: User,
    clients: list[Organization],
    memberships: list[tuple[Organization, Role]],
    prefs: Preferences,
    period: str,
    *,
    again: bool = False,
) -> OutgoingMail | None:
    """A consultant's one digest across ``clients``, or None when none of them has anything to say."""
    settings = batch.settings
    first, last = week_of_period(period)
    weeks = []
    for org in clients:
        part, zoned = batch.org_part(org, first, last, prefs.timezone)
        dashboard = external_url(settings, "organizations.home", org_slug=org.slug)
        weeks.append(ClientWeek(org, zoned.digest, len(part.reminders), dashboard))
    if not again and all(week.digest.is_empty and not week.open_items for week in weeks):
        return None
    consultancy = next((org for org, _role in memberships if org.kind == OrgKind.consultancy), None)
    portfolio = external_url(settings, "consulting.portfolio", org_slug=consultancy.slug) if consultancy else None
    return compose_clients_digest(user, weeks, portfolio, settings)


@dataclass(frozen=True)
class Resume:
    """Where a batch that lost its send log stood, for its retry: ``accepted``, the claims whose message the SMTP
    server accepted (with its ``Message-ID``) but whose result was not recorded; ``held``, the claims on which
    nothing left. The retry records the first as sent before anything else, so they are not sent again, and
    takes the second over at once instead of after the lease. In the task's arguments as JSON (``as_json``)."""

    accepted: tuple[tuple[sendlog.Claim, str], ...] = ()
    held: tuple[sendlog.Claim, ...] = ()

    def as_json(self) -> dict[str, list[list[object]]]:
        return {
            "accepted": [[*astuple(claim), message_id] for claim, message_id in self.accepted],
            "held": [list(astuple(claim)) for claim in self.held],
        }

    @classmethod
    def from_json(cls, accepted: list[list[Any]] | None, held: list[list[Any]] | None) -> Resume:
        return cls(
            accepted=tuple((sendlog.Claim(*row[:-1]), row[-1]) for row in accepted or ()),
            held=tuple(sendlog.Claim(*row) for row in held or ()),
        )


class BatchInterrupted(Exception):
    """The send log could not be written in the middle of a batch; ``resume`` is where the batch stood, the
    cause (``__cause__``) what went wrong."""

    def __init__(self, resume: Resume) -> None:
        super().__init__(f"{len(resume.accepted)} sent and not recorded, {len(resume.held)} claimed and not sent")
        self.resume = resume


def _deliver(
    session: Session,
    settings: Settings,
    outgoing: list[tuple[sendlog.Key, OutgoingMail]],
    send_log: Connection | None = None,
    resume: Resume | None = None,
) -> int:
    """Claim every key, then send message by message, recording each result at once. The send log is written
    through ``send_log`` (a connection in autocommit mode: every statement commits by itself; the results are
    recorded by a ``sendlog.Recorder`` one message behind) or, without one, through ``session``, committed
    after every write. Returns how many were sent.

    ``resume``: where an earlier attempt of this batch stood. A send log that cannot be written raises
    ``BatchInterrupted`` with where this one stands.

    The messages are composed before the claim, so the reading is over before the first write.
    """
    writer: sendlog.Writer = send_log if send_log is not None else session
    resume = resume or Resume()
    try:
        if send_log is not None:
            # The reading is done: end its transaction, which on SQLite holds the database's write lock that the
            # send log's connection needs.
            session.commit()
        for claim, message_id in resume.accepted:
            # False when it was recorded after all (the answer to the commit was lost, not the commit).
            sendlog.mark_sent(writer, claim, message_id)
        claims = sendlog.claim_many(writer, [key for key, _message in outgoing], mine=resume.held)
        if isinstance(writer, Session):
            # Committed before anything leaves: every other attempt at these keys now finds the claims.
            writer.commit()
    except Exception as error:
        raise BatchInterrupted(resume) from error
    sent = 0
    results: list[tuple[sendlog.Claim, SendResult]] = []
    recorder = _SessionRecorder(writer) if isinstance(writer, Session) else sendlog.Recorder(writer)
    try:
        with Mailer(settings) as mailer, recorder:
            for key, message in outgoing:
                claim = claims.get(key)
                if claim is None:
                    continue
                result = mailer.send(message)
                results.append((claim, result))
                recorder.record(claim, result)
                if result.ok:
                    sent += 1
                else:
                    log.warning("digest %s for user %s: %s", claim.period, claim.user_id, result.error)
    except Exception as error:
        unrecorded = results[recorder.recorded :]
        tried = {claim for claim, _result in results}
        raise BatchInterrupted(
            Resume(
                accepted=tuple((claim, result.message_id) for claim, result in unrecorded if result.ok),
                held=tuple(claim for claim, result in unrecorded if not result.ok)
                + tuple(claim for claim in claims.values() if claim not in tried),
            )
        ) from error
    return sent


class _SessionRecorder:
    """``sendlog.Recorder``'s interface for ``_deliver`` on a session: each result recorded and committed at once."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.recorded = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def record(self, claim: sendlog.Claim, result: SendResult) -> None:
        sendlog.record(self._session, claim, result)
        self._session.commit()
        self.recorded += 1


def _memberships(session: Session, user_ids: list[int]) -> dict[int, list[tuple[Organization, Role]]]:
    rows = session.execute(
        select(Membership.user_id, Organization, Membership.role)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id.in_(user_ids))
        .order_by(Organization.name)
    ).all()
    orgs: dict[int, list[tuple[Organization, Role]]] = {}
    for user_id, org, role in rows:
        orgs.setdefault(user_id, []).append((org, role))
    return orgs


def send_batch(
    session: Session,
    user_ids: list[int],
    now_utc: datetime,
    settings: Settings | None = None,
    *,
    everyone: bool = False,
    send_log: Connection | None = None,
    resume: Resume | None = None,
) -> int:
    """Send the digests of these users that are due at ``now_utc`` (the scheduler's moment, so a batch
    that waited in the queue still sends the week it was meant for); with ``everyone``, of every user
    who has the digest switched on, whatever their weekday and hour. ``send_log``: a connection in autocommit
    mode for the send log (``db.autocommit_connection``), else it is written and committed through
    ``session``. ``resume``: where an interrupted attempt of this batch stood (``BatchInterrupted``).

    Returns how many e-mails this call sent. Needs an application context.
    """
    settings = settings or current_app.extensions["engpass.settings"]
    readers = digest_readers(session, user_ids)
    reader_ids = [user.id for user, _prefs in readers]
    memberships = _memberships(session, reader_ids)
    clients = clients_of_users(session, reader_ids)
    due = []
    for user, prefs in readers:
        if not (everyone or due_for_digest(prefs, now_utc)):
            continue
        their_clients = [org for org, _level in clients.get(user.id, [])]
        client_ids = {org.id for org in their_clients}
        # A client they also belong to is in the consultant's digest, not in one of its own.
        own = [(org, role) for org, role in memberships.get(user.id, []) if org.id not in client_ids]
        due.append((user, prefs, digest_period(prefs, now_utc), own, their_clients))
    batch = _Batch(session, settings)
    # Every organization's part before the first e-mail, a few statements per week described for all of them.
    weeks: dict[str, dict[int, Organization]] = {}
    for _user, _prefs, period, own, their_clients in due:
        orgs = weeks.setdefault(period, {})
        orgs.update((org.id, org) for org, _role in own)
        orgs.update((org.id, org) for org in their_clients)
    for period, orgs in weeks.items():
        batch.read(orgs.values(), *week_of_period(period))
    outgoing = []
    with mail_context(settings):
        for user, prefs, period, own, their_clients in due:
            for org, role in own:
                message = _compose(batch, user, org, role, prefs, period)
                if message is not None:
                    outgoing.append(((user.id, kind_for(org.id), period), message))
            if their_clients:
                message = _compose_for_clients(batch, user, their_clients, memberships.get(user.id, []), prefs, period)
                if message is not None:
                    outgoing.append(((user.id, CLIENTS_KIND, period), message))
    return _deliver(session, settings, outgoing, send_log, resume)


def due_user_ids(session: Session, now_utc: datetime) -> list[int]:
    """Whose digest is due at ``now_utc``, one organization's members next to each other (``BY_ORGANIZATION``)."""
    return [user.id for user, _prefs in users_due_for_digest(session, now_utc, BY_ORGANIZATION)]


def batches(user_ids: list[int], size: int) -> list[list[int]]:
    """``user_ids`` in tasks of ``size`` (``Settings.digest_batch_size``): small enough to spread over the workers
    and to finish well inside the send log's lease."""
    return [user_ids[start : start + size] for start in range(0, len(user_ids), size)]


def resend(session: Session, entry: SendLog) -> bool:
    """A digest a temporary failure left unsent: the same week again, if the user still wants it."""
    if entry.kind == CLIENTS_KIND:
        return _resend_for_clients(session, entry)
    user = session.get(User, entry.user_id)
    org_id = int(entry.kind.removeprefix(KIND_PREFIX))
    org = session.get(Organization, org_id)
    role = role_of(session, entry.user_id, org_id)
    if user is None or org is None or role is None:
        return sendlog.give_up(session, entry, "the recipient is no longer a member")
    prefs = preferences_of(session, user)
    if not prefs.digest_enabled:
        return sendlog.give_up(session, entry, "the digest was switched off")
    settings: Settings = current_app.extensions["engpass.settings"]
    message = _compose(_Batch(session, settings), user, org, role, prefs, entry.period, again=True)
    assert message is not None
    return _deliver(session, settings, [((user.id, entry.kind, entry.period), message)]) == 1


def _resend_for_clients(session: Session, entry: SendLog) -> bool:
    user = session.get(User, entry.user_id)
    clients = [org for org, _level in clients_of(session, entry.user_id)] if user is not None else []
    if user is None or not clients:
        return sendlog.give_up(session, entry, "the recipient reaches no client any more")
    prefs = preferences_of(session, user)
    if not prefs.digest_enabled:
        return sendlog.give_up(session, entry, "the digest was switched off")
    settings: Settings = current_app.extensions["engpass.settings"]
    memberships = _memberships(session, [user.id]).get(user.id, [])
    batch = _Batch(session, settings)
    with mail_context(settings):
        message = _compose_for_clients(batch, user, clients, memberships, prefs, entry.period, again=True)
    assert message is not None
    return _deliver(session, settings, [((user.id, entry.kind, entry.period), message)]) == 1


def this_hour() -> datetime:
    """The start of the current hour: every batch of one scheduler round decides with the same moment."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def first_round_of_the_hour(settings: Settings, moment: datetime) -> bool:
    """Whether this scheduler round is the first for ``moment``'s hour.

    A second beat started by mistake then fans out nothing; the send log would keep each
    digest to one e-mail anyway, this only spares the work. Without Redis (the embedded
    default runs one beat) every round is the first.
    """
    if not settings.redis_url:
        return True
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.set(f"engpass:digest:round:{moment:%Y-%m-%dT%H}", "1", nx=True, ex=2 * 3600))
    except redis.RedisError:
        log.warning("digest round lock unavailable; relying on the send log", exc_info=True)
        return True
    finally:
        client.close()


def send_round(session: Session, moment: datetime, settings: Settings | None = None, *, everyone: bool = False) -> int:
    """One round in this process, batch after batch: what ``engpass digest send-due`` does."""
    settings = settings or current_app.extensions["engpass.settings"]
    if everyone:
        user_ids = list(session.scalars(select(User.id).order_by(*BY_ORGANIZATION)))
    else:
        user_ids = due_user_ids(session, moment)
    size = settings.digest_batch_size
    return sum(send_batch(session, ids, moment, settings, everyone=everyone) for ids in batches(user_ids, size))
