"""Bottleneck candidates over the API: the ranked backlog, proposing, editing, merging, picking, dismissing
and reopening, through ``candidates.service`` — the same rules and audit events as the backlog's pages.

The backlog is ranked by the estimated cost per year, which depends on the organization's hourly rate and
working weeks, so it is ranked in memory (an organization's candidates are dozens, not thousands); the
cursor is the last item's place in that order, so a page stays right while candidates come and go. A
refusal of the rules is a 409 with their words, a member changing someone else's candidate a 403, and
another organization's candidate a 404 like a missing one.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import abort, current_app, g, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engpass.accounts.models import User
from engpass.api.blueprint import bp, endpoint
from engpass.api.candidate_schemas import (
    CandidateCreateSchema,
    CandidateDismissSchema,
    CandidateListArgsSchema,
    CandidateMergeSchema,
    CandidatePageSchema,
    CandidatePatchSchema,
    CandidatePickSchema,
    CandidateReopenSchema,
    CandidateSchema,
)
from engpass.api.cycles import second_open_refused
from engpass.api.paging import decode, page
from engpass.api.problems import ApiProblem, invalid, rule_violation
from engpass.candidates import service
from engpass.candidates.costs import rank_key, yearly_cost
from engpass.candidates.figures import cost_figure
from engpass.candidates.models import Candidate
from engpass.cycles import service as cycles
from engpass.db import db
from engpass.organizations.models import Membership
from engpass.organizations.permissions import Action, can

TAG = "Candidates"
ROW_FIELDS = (
    "id",
    "title",
    "category",
    "who_feels_it",
    "description",
    "hours_per_week",
    "cost_per_week",
    "effort",
    "data_available",
    "status",
    "cycle_id",
    "merged_into_id",
    "dismissed_reason",
    "proposed_by_id",
    "created_at",
    "updated_at",
)


def _candidate_or_404(candidate_id: int) -> Candidate:
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None:
        abort(404)
    return candidate


def _document(candidate: Candidate, proposer: str | None) -> dict[str, Any]:
    org = g.org
    cost = yearly_cost(candidate, org.default_hourly_rate, org.working_weeks_per_year)
    settings = current_app.extensions["engpass.settings"]
    document = {name: getattr(candidate, name) for name in ROW_FIELDS}
    document.update(
        currency=org.currency,
        cost_per_year=cost.total if cost is not None else None,
        cost_formula=cost_figure(candidate.hours_per_week, candidate.cost_per_week, cost, org.currency).formula,
        proposer_name=None if _people_hidden() else proposer,
        web_url=settings.base_url.rstrip("/") + url_for("candidates.index", org_slug=org.slug),
    )
    return document


def _one(candidate: Candidate) -> dict[str, Any]:
    proposer = db.session.get(User, candidate.proposed_by_id) if candidate.proposed_by_id is not None else None
    return _document(candidate, proposer.name if proposer is not None else None)


def _people_hidden() -> bool:
    """A consultancy never sees the client's members (docs/consultants.md): no proposer's name."""
    return g.get("consulting") is not None


def _key(candidate: Candidate) -> list[Any]:
    unknown, cost, created, candidate_id = rank_key(candidate, g.org.default_hourly_rate, g.org.working_weeks_per_year)
    return [unknown, str(cost), created, candidate_id]


def _cursor_key(cursor: str) -> tuple[int, Decimal, float, int]:
    unknown, cost, created, candidate_id = decode(cursor, 4)
    try:
        key = (int(unknown), Decimal(cost), float(created), int(candidate_id))
        if key[1].is_finite() and math.isfinite(key[2]):
            return key
    except (TypeError, ValueError, InvalidOperation, OverflowError):
        pass
    raise invalid("cursor", _("This cursor is not valid. Use the next_cursor of the previous page."), location="query")


@endpoint("/candidates", "GET", Action.view_candidates, tag=TAG)
@bp.arguments(CandidateListArgsSchema, location="query")
@bp.response(200, CandidatePageSchema)
def list_candidates(args: dict[str, Any]) -> dict[str, Any]:
    """The backlog, ranked like its page: the highest estimated cost per year first, candidates with
    unknown numbers last, the newest first among equals.

    `status` lists the open backlog by default, or the picked, merged or dismissed candidates. Pages of
    `limit` candidates; follow `next` (or pass `next_cursor`).
    """
    stmt = (
        select(Candidate, User.name)
        .outerjoin(User, User.id == Candidate.proposed_by_id)
        .where(Candidate.status == args["status"])
    )
    rows = sorted(db.session.execute(stmt), key=lambda row: rank_key(row[0], *_settings()))
    if "cursor" in args:
        after = _cursor_key(args["cursor"])
        rows = [row for row in rows if rank_key(row[0], *_settings()) > after]
    limit = args["limit"]
    more = len(rows) > limit
    rows = rows[:limit]
    return page([_document(c, name) for c, name in rows], limit, _key(rows[-1][0]) if more else None)


def _settings() -> tuple[Decimal, int]:
    return g.org.default_hourly_rate, g.org.working_weeks_per_year


@endpoint("/candidates", "POST", Action.propose_candidate, tag=TAG)
@bp.arguments(CandidateCreateSchema)
@bp.response(201, CandidateSchema)
def propose_candidate(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Propose a bottleneck candidate: only `title` is required; numbers left out or null are unknown."""
    candidate = service.propose(db.session(), data, g.api_user.id)
    db.session.commit()
    return _one(candidate), 201, {"Location": url_for("api.get_candidate", candidate_id=candidate.id)}


@endpoint("/candidates/<int:candidate_id>", "GET", Action.view_candidates, tag=TAG)
@bp.response(200, CandidateSchema)
def get_candidate(candidate_id: int) -> dict[str, Any]:
    """One candidate with its estimated cost per year and the formula."""
    return _one(_candidate_or_404(candidate_id))


def _refused(refused: service.CandidateRefused, field: str) -> ApiProblem:
    db.session.rollback()
    if isinstance(refused, service.NotYours):
        return ApiProblem(403, " ".join(str(p) for p in refused.problems))
    return rule_violation(refused.problems, field)


@endpoint("/candidates/<int:candidate_id>", "PATCH", Action.propose_candidate, tag=TAG, errors=(409,))
@bp.arguments(CandidatePatchSchema)
@bp.response(200, CandidateSchema)
def update_candidate(data: dict[str, Any], candidate_id: int) -> dict[str, Any]:
    """Change an open candidate: its proposer may, owners and admins may change anyone's (else 403)."""
    candidate = _candidate_or_404(candidate_id)
    try:
        service.edit(db.session(), candidate, data, g.api_user.id, manager=can(Action.manage_candidates))
    except service.CandidateRefused as refused:
        raise _refused(refused, "status") from None
    db.session.commit()
    return _one(candidate)


@endpoint("/candidates/<int:candidate_id>/merge", "POST", Action.manage_candidates, tag=TAG, errors=(409,))
@bp.arguments(CandidateMergeSchema)
@bp.response(200, CandidateSchema)
def merge_candidate(data: dict[str, Any], candidate_id: int) -> dict[str, Any]:
    """Merge this duplicate into `into_id`, which keeps its numbers and takes this one's where it has none.
    Answers the kept candidate."""
    duplicate = _candidate_or_404(candidate_id)
    into = db.session.get(Candidate, data["into_id"])
    if into is None:
        raise rule_violation([_("There is no such candidate in this organization.")], "into_id")
    try:
        service.merge(db.session(), duplicate, into, g.api_user.id)
    except service.CandidateRefused as refused:
        raise _refused(refused, "into_id") from None
    db.session.commit()
    return _one(into)


@endpoint("/candidates/<int:candidate_id>/pick", "POST", Action.manage_candidates, tag=TAG, errors=(409,))
@bp.arguments(CandidatePickSchema)
@bp.response(200, CandidateSchema)
def pick_candidate(data: dict[str, Any], candidate_id: int) -> dict[str, Any]:
    """Pick the candidate as the next bottleneck: it becomes a cycle (its `cycle_id`) with its hours and cost
    per week as the first draft of the status quo, following the latest decided cycle if none follows it yet.
    While another cycle is open: 409, unless `confirm_second_open` is true."""
    candidate = _candidate_or_404(candidate_id)
    try:
        service.pick(
            db.session(),
            candidate,
            actor_id=g.api_user.id,
            owner_id=g.api_user.id if isinstance(g.membership, Membership) else None,
            who_label=_("Who feels it"),
            confirm_second_open=data["confirm_second_open"],
        )
    except cycles.FocusConfirmationRequired as refused:
        raise second_open_refused(refused) from None
    except service.CandidateRefused as refused:
        raise _refused(refused, "status") from None
    db.session.commit()
    return _one(candidate)


@endpoint("/candidates/<int:candidate_id>/dismiss", "POST", Action.manage_candidates, tag=TAG, errors=(409,))
@bp.arguments(CandidateDismissSchema)
@bp.response(200, CandidateSchema)
def dismiss_candidate(data: dict[str, Any], candidate_id: int) -> dict[str, Any]:
    """Take an open candidate out of the backlog, with the reason."""
    candidate = _candidate_or_404(candidate_id)
    try:
        service.dismiss(db.session(), candidate, data["reason"], g.api_user.id)
    except service.CandidateRefused as refused:
        raise _refused(refused, "status") from None
    db.session.commit()
    return _one(candidate)


@endpoint("/candidates/<int:candidate_id>/reopen", "POST", Action.manage_candidates, tag=TAG, errors=(409,))
@bp.arguments(CandidateReopenSchema)
@bp.response(200, CandidateSchema)
def reopen_candidate(_data: dict[str, Any], candidate_id: int) -> dict[str, Any]:
    """Bring a dismissed candidate back into the open backlog (body: `{}`)."""
    candidate = _candidate_or_404(candidate_id)
    try:
        service.reopen(db.session(), candidate, g.api_user.id)
    except service.CandidateRefused as refused:
        raise _refused(refused, "status") from None
    db.session.commit()
    return _one(candidate)
