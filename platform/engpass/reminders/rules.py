"""When a cycle stalls: the reminder rules, their thresholds, and an organization's open reminders.

Every rule has a deadline: a number of days after something happened, or the prototype's own
target date. The deadline day itself is still in time; the reminder opens on the day after it and
stays open until the cycle moves on. The to-do page, the dashboard, the reminder e-mails and the
tests call the same plain functions. See docs/reminders.md.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from flask import url_for
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from engpass.accounts.models import User
from engpass.cycles.models import Cycle, Decision, Measurement, Stage
from engpass.cycles.rules import baseline_problems, prototype_overdue
from engpass.organizations import memberships
from engpass.organizations.models import Membership, Organization, Role
from engpass.rollouts.checkpoints import has_effect_clause, reminding
from engpass.rollouts.models import Rollout, RolloutMeasurement
from engpass.tenancy import require_org_id

# After the bottleneck was named, a week to quantify the status quo.
BASELINE_DUE_DAYS = 7
# In the result stage, at most this long without a new measurement; each further stretch reminds again.
MEASUREMENT_DUE_DAYS = 14
# After the latest decision, this long to name the next bottleneck: the window in which the maturity's
# rhythm counts a next bottleneck as picked in time (maturity.model.NEXT_BOTTLENECK_DAYS).
NEXT_BOTTLENECK_DUE_DAYS = 14


class Rule(enum.StrEnum):
    missing_baseline = "missing_baseline"
    overdue_prototype = "overdue_prototype"
    missing_measurement = "missing_measurement"
    no_next_bottleneck = "no_next_bottleneck"
    no_owner = "no_owner"
    rollout_checkpoint = "rollout_checkpoint"


RULE_ORDER = {rule: index for index, rule in enumerate(Rule)}

# The form that resolves each rule, and the section of the cycle page that shows what is missing.
RESOLVED_BY: dict[Rule, tuple[str, str]] = {
    Rule.missing_baseline: ("cycles.baseline", "baseline"),
    # A prototype past its date is finished by measuring it: the first measurement moves it to the result.
    Rule.overdue_prototype: ("cycles.measurement_new", "prototype"),
    Rule.missing_measurement: ("cycles.measurement_new", "result"),
    Rule.no_next_bottleneck: ("cycles.next_cycle", "decision"),
    Rule.no_owner: ("cycles.bottleneck", "bottleneck"),
    Rule.rollout_checkpoint: ("rollouts.measurement_new", "rollout"),
}

# Who acts for a cycle that nobody (or a former member) is responsible for.
STAND_IN_ROLES = frozenset({Role.owner, Role.admin})

# Every reminder's send-log kind starts with it; the resend sweep finds the reminders' resender by it.
KIND_PREFIX = "reminder."


@dataclass(frozen=True)
class Due:
    """A rule that applies: counted from ``reference``, open since ``since``, e-mailed once per ``period``."""

    reference: date
    since: date
    period: str


@dataclass(frozen=True)
class Reminder:
    rule: Rule
    cycle_id: int
    cycle_title: str
    # None when nobody is responsible, or the owner has left the organization: then its owners and
    # admins get the reminder (``addressed_to``).
    owner_id: int | None
    owner_name: str | None
    # The day the rule counts from: the bottleneck named, the prototype's target date, the latest
    # measurement (or entering the result stage), the decision.
    reference: date
    since: date
    period: str
    endpoint: str
    anchor: str

    @property
    def kind(self) -> str:
        """With the recipient and ``period``, the send log's key that allows one e-mail."""
        return f"{KIND_PREFIX}{self.rule.value}"

    def days_open(self, today: date) -> int:
        return (today - self.since).days

    def form_url(self, **values: Any) -> str:
        """The form that resolves it; outside the organization's request pass ``org_slug`` (docs/reminders.md)."""
        return url_for(self.endpoint, cycle_id=self.cycle_id, **values)

    def section_url(self, **values: Any) -> str:
        """The cycle page at the section that shows what is missing: for those who may only read."""
        return url_for("cycles.show", cycle_id=self.cycle_id, _anchor=self.anchor, **values)


def _day(at: datetime, zone: tzinfo) -> date:
    """Stage timestamps are instants (naive ones in UTC); a rule counts them by the organization's day, the
    same calendar its ``today`` comes from, so a cycle named at half past midnight counts from that day."""
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(zone).date()


def _after(reference: date, days: int) -> date:
    """The first day a reminder is open: the day after its deadline."""
    return reference + timedelta(days=days + 1)


def missing_baseline(cycle: Cycle, today: date, *, zone: tzinfo) -> Due | None:
    """Named a week ago and the status quo is still not quantified as the method's gate to a solution asks."""
    if cycle.stage not in (Stage.bottleneck, Stage.baseline) or not baseline_problems(cycle):
        return None
    named = _day(cycle.bottleneck_at, zone)
    since = _after(named, BASELINE_DUE_DAYS)
    if today < since:
        return None
    # One period per cycle: the status quo is quantified once, and the to-do list shows it until then.
    return Due(named, since, f"{cycle.id}:{named.isoformat()}")


def overdue_prototype(cycle: Cycle, today: date) -> Due | None:
    """A running prototype past its target date."""
    if not prototype_overdue(cycle, today):
        return None
    target = cycle.prototype_target
    # One period per target date: a new date is a new promise, and missing that one reminds again.
    return Due(target, target + timedelta(days=1), f"{cycle.id}:{target.isoformat()}")


def missing_measurement(cycle: Cycle, last_measured: date | None, today: date, *, zone: tzinfo) -> Due | None:
    """In the result stage without a new measurement for two weeks.

    Counted from the latest measurement or from entering the result stage, whichever is later: a
    measurement entered with an old date does not make a cycle that just got there overdue.
    """
    if cycle.stage != Stage.result:
        return None
    days = [day for day in (last_measured, cycle.result_at and _day(cycle.result_at, zone)) if day is not None]
    if not days:
        return None
    reference = max(days)
    waited = (today - reference).days
    if waited <= MEASUREMENT_DUE_DAYS:
        return None
    # Measuring is a habit, not a one-off: every further fortnight without a measurement is a new
    # period (1 for days 15–28, 2 for days 29–42, …), and a measurement starts the count again.
    window = (waited - 1) // MEASUREMENT_DUE_DAYS
    return Due(reference, _after(reference, MEASUREMENT_DUE_DAYS), f"{cycle.id}:{reference.isoformat()}:{window}")


def no_next_bottleneck(latest_decided: Cycle, any_open: bool, today: date, *, zone: tzinfo) -> Due | None:
    """Two weeks after the organization's latest decision no cycle is open: the loop has stopped.

    Only the latest decision counts, and only while nothing is open: an organization working on
    any bottleneck (a follower or not) is in the loop, and older decisions need no follower of their own.
    """
    if any_open or latest_decided.stage != Stage.decided or latest_decided.decided_at is None:
        return None
    decided = _day(latest_decided.decided_at, zone)
    since = _after(decided, NEXT_BOTTLENECK_DUE_DAYS)
    if today < since:
        return None
    # One period per decision: deciding again (after going back a stage) is a new one.
    return Due(decided, since, f"{latest_decided.id}:{decided.isoformat()}")


def no_owner(cycle: Cycle, owner_is_member: bool, *, zone: tzinfo) -> Due | None:
    """An open cycle nobody in the organization is responsible for: its reminders would reach no one.

    Open since the cycle was named: the cycle row does not say when an owner was removed (the audit
    log does), and a cycle without one is worth a look whatever its age.
    """
    if not cycle.is_open or owner_is_member:
        return None
    named = _day(cycle.bottleneck_at, zone)
    # One period per cycle: the organization's owners and admins hear of it once.
    return Due(named, named, f"{cycle.id}:{named.isoformat()}")


def rollout_checkpoint(cycle: Cycle, started_on: date | None, last_effect: date | None, today: date) -> Due | None:
    """A scaled cycle's rollout 30, 60 or 90 days after its start without the effect measured again
    (rollouts.checkpoints): open from the checkpoint's day to its window's end."""
    if started_on is None or cycle.decision != Decision.scale:
        return None
    days = reminding(started_on, last_effect, today)
    if days is None:
        return None
    on = started_on + timedelta(days=days)
    # One period per checkpoint of a start: a new start date is a new plan with checkpoints of its own.
    return Due(on, on, f"{cycle.id}:{started_on.isoformat()}:{days}")


@dataclass(frozen=True)
class CycleState:
    """A cycle with what its rules read besides the row."""

    cycle: Cycle
    last_measured: date | None
    # The owner while a member of the organization; None otherwise.
    owner_id: int | None
    owner_name: str | None
    # A scaled cycle's rollout: its start, and the latest day its effect was measured again.
    rollout_started_on: date | None = None
    last_effect: date | None = None


@dataclass(frozen=True)
class Situation:
    """What the rules read of an organization: its open cycles and its latest decision."""

    open: list[CycleState]
    latest_decided: CycleState | None
    # The cycles decided "scale" that have a rollout.
    scaled: list[CycleState] = field(default_factory=list)
    # The organization's time zone: the rules count instants by its days.
    zone: tzinfo = UTC


def _situation_statement() -> Select[Any]:
    """The reminders' one query, for the organization in context or every organization of a
    ``tenancy.reading`` block: each row names its organization (``Cycle.organization_id``)."""
    # Per cycle, the first entry of the index on (cycle, day) read backwards: aggregating every measurement of a
    # batch's organizations first would read them all, and so would max() per cycle, each row through the
    # tenant filter.
    last_measured = (
        select(Measurement.measured_on)
        .where(Measurement.cycle_id == Cycle.id)
        .order_by(Measurement.measured_on.desc())
        .limit(1)
        .scalar_subquery()
    )
    last_effect = (
        select(RolloutMeasurement.rollout_id, func.max(RolloutMeasurement.measured_on).label("last_effect"))
        .where(has_effect_clause())
        .group_by(RolloutMeasurement.rollout_id)
        .subquery()
    )
    # Each organization's latest decided cycle: the first by decision time, newest first.
    decided = (
        select(
            Cycle.id,
            func.row_number()
            .over(
                partition_by=Cycle.organization_id,
                order_by=(Cycle.decided_at.desc().nulls_last(), Cycle.id.desc()),
            )
            .label("rank"),
        )
        .where(Cycle.stage == Stage.decided)
        .subquery()
    )
    # A hashed sub-plan, built once per statement: as a join, the planner (which cannot tell how many rows the
    # policies let through) looped over every decided cycle for each cycle of the batch.
    is_latest = Cycle.id.in_(select(decided.c.id).where(decided.c.rank == 1))
    scaled = and_(Cycle.stage == Stage.decided, Cycle.decision == Decision.scale, Rollout.id.is_not(None))
    return (
        select(
            Cycle,
            last_measured,
            Membership.user_id,
            User.name,
            is_latest,
            Rollout.started_on,
            last_effect.c.last_effect,
            Organization.timezone,
        )
        .join(Organization, Organization.id == Cycle.organization_id)
        .outerjoin(Rollout, Rollout.cycle_id == Cycle.id)
        .outerjoin(last_effect, last_effect.c.rollout_id == Rollout.id)
        # Memberships are not tenant rows: the organization is named here, not by the tenancy filter.
        .outerjoin(Membership, and_(Membership.user_id == Cycle.owner_id, memberships.in_org(Cycle.organization_id)))
        .outerjoin(User, User.id == Membership.user_id)
        .where(or_(Cycle.stage != Stage.decided, is_latest, scaled))
        .order_by(Cycle.organization_id, Cycle.created_at, Cycle.id)
    )


# Built once: a digest batch runs it for every organization, and building it cost as much as running it.
_SITUATION = _situation_statement()


def load(session: Session) -> Situation:
    """The current organization's open cycles, latest decision and scaled cycles with a rollout, in one query
    however many there are."""
    return load_many(session).get(require_org_id(), Situation([], None))


def load_many(session: Session) -> dict[int, Situation]:
    """``load`` for every organization the session may read (``tenancy.reading``), in one query; an
    organization without cycles is not in the answer."""
    rows: dict[int, list[Any]] = {}
    for row in session.execute(_SITUATION).all():
        rows.setdefault(row[0].organization_id, []).append(row)
    return {org_id: _situation(org_rows) for org_id, org_rows in rows.items()}


def _situation(rows: list[Any]) -> Situation:
    open_states, latest, scaled_states = [], None, []
    for cycle, last, owner_id, owner_name, is_latest, started_on, effect, _timezone in rows:
        state = CycleState(cycle, last, owner_id, owner_name, started_on, effect)
        if cycle.is_open:
            open_states.append(state)
        if is_latest:
            latest = state
        if not cycle.is_open and started_on is not None:
            scaled_states.append(state)
    return Situation(open_states, latest, scaled_states, ZoneInfo(rows[0][-1]))


def _reminder(rule: Rule, state: CycleState, due: Due) -> Reminder:
    endpoint, anchor = RESOLVED_BY[rule]
    return Reminder(
        rule=rule,
        cycle_id=state.cycle.id,
        cycle_title=state.cycle.title,
        owner_id=state.owner_id,
        owner_name=state.owner_name,
        reference=due.reference,
        since=due.since,
        period=due.period,
        endpoint=endpoint,
        anchor=anchor,
    )


def evaluate(situation: Situation, today: date) -> list[Reminder]:
    """Every open reminder, the longest open first."""
    reminders = []
    zone = situation.zone
    for state in situation.open:
        cycle = state.cycle
        for rule, due in (
            (Rule.missing_baseline, missing_baseline(cycle, today, zone=zone)),
            (Rule.overdue_prototype, overdue_prototype(cycle, today)),
            (Rule.missing_measurement, missing_measurement(cycle, state.last_measured, today, zone=zone)),
            (Rule.no_owner, no_owner(cycle, state.owner_id is not None, zone=zone)),
        ):
            if due is not None:
                reminders.append(_reminder(rule, state, due))
    for state in situation.scaled:
        due = rollout_checkpoint(state.cycle, state.rollout_started_on, state.last_effect, today)
        if due is not None:
            reminders.append(_reminder(Rule.rollout_checkpoint, state, due))
    latest = situation.latest_decided
    if latest is not None:
        due = no_next_bottleneck(latest.cycle, bool(situation.open), today, zone=zone)
        if due is not None:
            reminders.append(_reminder(Rule.no_next_bottleneck, latest, due))
    return sorted(reminders, key=lambda r: (r.since, RULE_ORDER[r.rule], r.cycle_id))


def open_reminders(session: Session, today: date, owner_id: int | None = None) -> list[Reminder]:
    """The current organization's open reminders, the longest open first; one query.

    With ``owner_id``, only those of the cycles that user is responsible for: reminders of cycles
    without an owner are not among them (see ``addressed_to`` for who gets those).
    """
    reminders = evaluate(load(session), today)
    if owner_id is None:
        return reminders
    return [reminder for reminder in reminders if reminder.owner_id == owner_id]


def addressed_to(reminder: Reminder, user_id: int, role: Role) -> bool:
    """The cycle's owner acts on a reminder; for a cycle without one, the organization's owners and admins."""
    if reminder.owner_id is None:
        return role in STAND_IN_ROLES
    return reminder.owner_id == user_id
