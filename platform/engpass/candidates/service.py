"""The backlog's rules: propose, edit, merge, dismiss, reopen and pick a candidate, each in the audit log.

Functions take the session and the acting user's id and work inside the current organization (the tenancy
layer scopes every query and stamps every insert). Who may do what is the permission matrix's
(``propose_candidate``, ``manage_candidates``); the one rule it cannot say — a member edits only their own
open candidate — is ``may_edit`` here. A refusal raises ``CandidateRefused`` with the user-facing words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.orm import Session

from engpass.accounts.models import User
from engpass.audit.service import apply_changes, audit_value, record
from engpass.candidates.costs import YearlyCost, ranked, yearly_cost
from engpass.candidates.models import Candidate, CandidateStatus, DataAvailable, Effort
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Cycle, Stage
from engpass.cycles.sponsors import default_sponsor
from engpass.paging import Page, clamped, page_count, page_of

FIELDS = (
    "title",
    "category",
    "who_feels_it",
    "description",
    "hours_per_week",
    "cost_per_week",
    "effort",
    "data_available",
)
# What a merge fills in on the kept candidate when it does not know it and the merged one does.
FILLED_BY_MERGE = ("hours_per_week", "cost_per_week", "effort", "data_available", "who_feels_it", "description")
UNKNOWN: dict[str, Any] = {
    "hours_per_week": None,
    "cost_per_week": None,
    "effort": Effort.unknown,
    "data_available": DataAvailable.unknown,
    "who_feels_it": "",
    "description": "",
}


class CandidateRefused(ValueError):
    """Refused by the backlog's rules; ``problems`` are user-facing, translated messages."""

    def __init__(self, problems: list[Any]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class NotYours(CandidateRefused):
    """A member changing someone else's candidate, or their own once it left the open backlog."""


NOT_OPEN = _l("This candidate is no longer in the open backlog.")


def propose(session: Session, data: dict[str, Any], actor_id: int | None) -> Candidate:
    """A new open candidate; only the title is needed, every number may stay unknown."""
    candidate = Candidate(proposed_by_id=actor_id, category=Category.other, **UNKNOWN)
    apply_changes(candidate, FIELDS, data)
    if not candidate.title:
        raise CandidateRefused([_l("Please name the bottleneck.")])
    session.add(candidate)
    session.flush()
    record(
        session,
        "candidate.proposed",
        actor_id=actor_id,
        object_type="candidate",
        object_id=candidate.id,
        title=candidate.title,
    )
    return candidate


def may_edit(candidate: Candidate, actor_id: int | None, *, manager: bool) -> bool:
    """Owners and admins (``manager``) edit every open candidate, its proposer only their own."""
    if not candidate.is_open:
        return False
    return manager or (actor_id is not None and candidate.proposed_by_id == actor_id)


def edit(
    session: Session, candidate: Candidate, data: dict[str, Any], actor_id: int | None, *, manager: bool
) -> dict[str, list[Any]]:
    if not candidate.is_open:
        raise CandidateRefused([NOT_OPEN])
    if not may_edit(candidate, actor_id, manager=manager):
        raise NotYours([_l("Only its proposer or an owner or admin may change this candidate.")])
    if "title" in data and not str(data["title"] or "").strip():
        raise CandidateRefused([_l("Please name the bottleneck.")])
    changes = apply_changes(candidate, FIELDS, data)
    if changes:
        record(
            session,
            "candidate.updated",
            actor_id=actor_id,
            object_type="candidate",
            object_id=candidate.id,
            changes=changes,
        )
    return changes


def merge(session: Session, duplicate: Candidate, into: Candidate, actor_id: int | None) -> dict[str, list[Any]]:
    """``duplicate`` leaves the open backlog as merged into ``into``, which keeps its own numbers and takes the
    duplicate's where it has none. Candidates merged into the duplicate earlier now point to ``into``."""
    if duplicate.id == into.id:
        raise CandidateRefused([_l("A candidate cannot be merged into itself.")])
    if not duplicate.is_open or not into.is_open:
        raise CandidateRefused([_l("Only open candidates can be merged.")])
    filled = {}
    for name in FILLED_BY_MERGE:
        mine, theirs = getattr(into, name), getattr(duplicate, name)
        if mine == UNKNOWN[name] and theirs != UNKNOWN[name]:
            filled[name] = [audit_value(mine), audit_value(theirs)]
            setattr(into, name, theirs)
    duplicate.status = CandidateStatus.merged
    duplicate.merged_into_id = into.id
    session.execute(update(Candidate).where(Candidate.merged_into_id == duplicate.id).values(merged_into_id=into.id))
    record(
        session,
        "candidate.merged",
        actor_id=actor_id,
        object_type="candidate",
        object_id=duplicate.id,
        title=duplicate.title,
        into_id=into.id,
        into_title=into.title,
        changes=filled,
    )
    return filled


def dismiss(session: Session, candidate: Candidate, reason: str, actor_id: int | None) -> None:
    if not candidate.is_open:
        raise CandidateRefused([NOT_OPEN])
    reason = (reason or "").strip()
    if not reason:
        raise CandidateRefused([_l("Please say why this candidate is dismissed.")])
    candidate.status = CandidateStatus.dismissed
    candidate.dismissed_reason = reason
    record(
        session,
        "candidate.dismissed",
        actor_id=actor_id,
        object_type="candidate",
        object_id=candidate.id,
        title=candidate.title,
        reason=reason,
    )


def reopen(session: Session, candidate: Candidate, actor_id: int | None) -> None:
    """A dismissed candidate back into the open backlog (a picked one has its cycle, a merged one lives on in
    the one it was merged into)."""
    if candidate.status != CandidateStatus.dismissed:
        raise CandidateRefused([_l("Only a dismissed candidate can be reopened.")])
    candidate.status = CandidateStatus.open
    candidate.dismissed_reason = None
    record(
        session,
        "candidate.reopened",
        actor_id=actor_id,
        object_type="candidate",
        object_id=candidate.id,
        title=candidate.title,
    )


def cycle_to_follow(session: Session) -> Cycle | None:
    """The cycle a picked candidate continues: the latest decided one, as long as no cycle follows it yet."""
    latest = session.scalars(
        select(Cycle).where(Cycle.stage == Stage.decided).order_by(Cycle.decided_at.desc(), Cycle.id.desc()).limit(1)
    ).first()
    if latest is None or session.scalar(select(exists().where(Cycle.previous_cycle_id == latest.id))):
        return None
    return latest


def why_of(candidate: Candidate, who_label: str) -> str:
    """The new cycle's "why": the description, and who feels the bottleneck."""
    parts = [candidate.description.strip()] if candidate.description.strip() else []
    if candidate.who_feels_it.strip():
        parts.append(f"{who_label}: {candidate.who_feels_it.strip()}")
    return "\n\n".join(parts)


def pick(
    session: Session,
    candidate: Candidate,
    *,
    actor_id: int | None,
    owner_id: int | None,
    who_label: str,
    confirm_second_open: bool = False,
) -> Cycle:
    """The candidate becomes a cycle through ``cycles.service.create_cycle`` — its rules (the focus question
    while another cycle is open, raised as ``FocusConfirmationRequired``), its chain and its audit — with the
    candidate's hours and cost per week as the first draft of the status quo. The others stay open.

    ``who_label`` is "Who feels it" in the language the cycle is written in."""
    if not candidate.is_open:
        raise CandidateRefused([NOT_OPEN])
    cycle = cycles.create_cycle(
        session,
        title=candidate.title,
        category=candidate.category,
        why=why_of(candidate, who_label),
        owner_id=owner_id,
        actor_id=actor_id,
        # Whoever picks it (an owner or admin) backs it, as when they name a bottleneck themselves.
        sponsor_id=default_sponsor(session, candidate.organization_id, actor_id),
        previous=cycle_to_follow(session),
        confirm_second_open=confirm_second_open,
    )
    draft = {
        name: value
        for name, value in (
            ("hours_per_week", candidate.hours_per_week),
            ("direct_cost_per_week", candidate.cost_per_week),
        )
        if value is not None
    }
    if draft:
        # A draft, not a saved status quo: the cycle stays in the bottleneck stage until its team quantifies it.
        for name, value in draft.items():
            setattr(cycle, name, value)
        record(
            session,
            "cycle.baseline_updated",
            actor_id=actor_id,
            object_type="cycle",
            object_id=cycle.id,
            changes={name: [None, audit_value(value)] for name, value in draft.items()},
        )
    candidate.status = CandidateStatus.picked
    candidate.cycle_id = cycle.id
    record(
        session,
        "candidate.picked",
        actor_id=actor_id,
        object_type="candidate",
        object_id=candidate.id,
        title=candidate.title,
        cycle_id=cycle.id,
    )
    return cycle


# --- reading -------------------------------------------------------------------------------------


@dataclass
class Entry:
    candidate: Candidate
    proposer: str | None
    cost: YearlyCost | None
    cycle_title: str | None = None
    merged: list[Entry] = field(default_factory=list)


# The open backlog a page at a time: all open candidates are ranked (the ranking is the product), a page of
# them is rendered.
OPEN_PAGE = 25
# Picked and dismissed candidates only pile up: the backlog shows the latest few, their own lists the rest.
LATEST_SHOWN = 10
LIST_PAGE = 25


@dataclass(frozen=True)
class Backlog:
    open: Page[Entry]
    picked: list[Entry]
    picked_total: int
    dismissed: list[Entry]
    dismissed_total: int


def _with_people(stmt: Select[Any]) -> Select[Any]:
    """A candidate with its proposer's name and its cycle's title, newest first (the order of every list but
    the ranked one)."""
    return (
        stmt.outerjoin(User, User.id == Candidate.proposed_by_id)
        .outerjoin(Cycle, Cycle.id == Candidate.cycle_id)
        .order_by(Candidate.created_at.desc(), Candidate.id.desc())
    )


def _entries(rows: Any, hourly_rate: Decimal, weeks_per_year: int) -> list[Entry]:
    """Rows of (candidate, proposer's name[, cycle's title, …]) as entries."""
    return [
        Entry(candidate, name, yearly_cost(candidate, hourly_rate, weeks_per_year), rest[0] if rest else None)
        for candidate, name, *rest in rows
    ]


def _attach_merged(session: Session, entries: list[Entry], hourly_rate: Decimal, weeks_per_year: int) -> None:
    """The candidates merged into ``entries``, for all of them in one query."""
    by_id = {entry.candidate.id: entry for entry in entries}
    if not by_id:
        return
    stmt = _with_people(
        select(Candidate, User.name, Cycle.title).where(
            Candidate.status == CandidateStatus.merged, Candidate.merged_into_id.in_(by_id)
        )
    )
    for merged in _entries(session.execute(stmt), hourly_rate, weeks_per_year):
        by_id[merged.candidate.merged_into_id or 0].merged.append(merged)


def _latest(
    session: Session, status: CandidateStatus, hourly_rate: Decimal, weeks_per_year: int
) -> tuple[list[Entry], int]:
    """The newest ``LATEST_SHOWN`` of a status and how many there are: the window count is taken before the
    LIMIT, so one statement answers both."""
    stmt = _with_people(
        select(Candidate, User.name, Cycle.title, func.count().over()).where(Candidate.status == status)
    ).limit(LATEST_SHOWN)
    rows = session.execute(stmt).all()
    return _entries(rows, hourly_rate, weeks_per_year), (rows[0][3] if rows else 0)


def backlog(session: Session, hourly_rate: Decimal, weeks_per_year: int, page: int = 1) -> Backlog:
    """The backlog page in a fixed number of queries, however many candidates there are: every open
    candidate ranked and one page of them (each with those merged into it), the latest picked ones with
    their cycle's title and the latest dismissed ones, with how many there are of each."""
    stmt = (
        select(Candidate, User.name)
        .outerjoin(User, User.id == Candidate.proposed_by_id)
        .where(Candidate.status == CandidateStatus.open)
    )
    entries = _entries(session.execute(stmt), hourly_rate, weeks_per_year)
    order = {c.id: i for i, c in enumerate(ranked([e.candidate for e in entries], hourly_rate, weeks_per_year))}
    shown = page_of(sorted(entries, key=lambda e: order[e.candidate.id]), page, OPEN_PAGE)
    picked, picked_total = _latest(session, CandidateStatus.picked, hourly_rate, weeks_per_year)
    dismissed, dismissed_total = _latest(session, CandidateStatus.dismissed, hourly_rate, weeks_per_year)
    # A candidate can be merged into one that was picked later; its entry keeps it, as an open one does.
    _attach_merged(session, [*shown.rows, *picked], hourly_rate, weeks_per_year)
    return Backlog(shown, picked, picked_total, dismissed, dismissed_total)


def decided_page(
    session: Session, status: CandidateStatus, hourly_rate: Decimal, weeks_per_year: int, number: int
) -> Page[Entry]:
    """Page ``number`` (clamped to the last) of the picked or dismissed candidates, newest first: counted,
    then read with LIMIT and OFFSET (a picked one's merged candidates in one more), so any page of any
    length costs the same queries."""
    total = session.scalar(select(func.count(Candidate.id)).where(Candidate.status == status)) or 0
    number = clamped(number, total, LIST_PAGE)
    stmt = (
        _with_people(select(Candidate, User.name, Cycle.title).where(Candidate.status == status))
        .limit(LIST_PAGE)
        .offset((number - 1) * LIST_PAGE)
    )
    entries = _entries(session.execute(stmt), hourly_rate, weeks_per_year)
    if status == CandidateStatus.picked:
        _attach_merged(session, entries, hourly_rate, weeks_per_year)
    return Page(entries, number, page_count(total, LIST_PAGE), total, LIST_PAGE)


def open_ranked(session: Session, hourly_rate: Decimal, weeks_per_year: int) -> list[Candidate]:
    """The open backlog, ranked (one query)."""
    found = session.scalars(select(Candidate).where(Candidate.status == CandidateStatus.open))
    return ranked(found, hourly_rate, weeks_per_year)
