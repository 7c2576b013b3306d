"""The backlog pages under ``/o/<org_slug>/candidates``: the ranked backlog, proposing and editing a
candidate, and the owners' and admins' merge, dismiss, reopen and pick.

Everyone sees the backlog; members propose and edit their own open candidates (a consultant with edit
access too); the buttons that decide — merge, pick, dismiss, reopen, edit anyone's — are shown to and
accepted from owners and admins only (``manage_candidates``). A refusal rolls back and says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from engpass.candidates import service
from engpass.candidates.costs import yearly_cost
from engpass.candidates.figures import CostFigure, cost_figure
from engpass.candidates.forms import CandidateForm, ConfirmForm, DismissForm, MergeForm, PickForm
from engpass.candidates.labels import DATA_LABELS, EFFORT_LABELS, STATUS_LABELS
from engpass.candidates.models import Candidate, CandidateStatus
from engpass.cycles import service as cycles
from engpass.cycles.templates import CATEGORY_LABELS
from engpass.db import db
from engpass.formatting import day, money, number
from engpass.gateway.web import org_blueprint
from engpass.organizations.context import current_org
from engpass.organizations.permissions import Action, can, require_permission
from engpass.page_request import requested_page

bp = org_blueprint("candidates", __name__, "/candidates")


def figure_of(candidate: Candidate) -> CostFigure:
    cost = yearly_cost(candidate, current_org.default_hourly_rate, current_org.working_weeks_per_year)
    return cost_figure(candidate.hours_per_week, candidate.cost_per_week, cost, current_org.currency)


def template_helpers() -> dict[str, Any]:
    """What the candidates' templates call; the next-bottleneck page (``cycles.next_cycle``) shows the
    backlog with them too."""
    return {
        "category_label": lambda value: CATEGORY_LABELS.get(value, value),
        "effort_label": lambda value: EFFORT_LABELS.get(value, value),
        "data_label": lambda value: DATA_LABELS.get(value, value),
        "status_label": lambda value: STATUS_LABELS.get(value, value),
        "figure_of": figure_of,
        "number": number,
        "money": lambda value: money(value, current_org.currency),
        "day": day,
    }


bp.context_processor(template_helpers)


def _candidate_or_404(candidate_id: int) -> Candidate:
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None:
        abort(404)
    return candidate


def _manager() -> bool:
    return can(Action.manage_candidates)


def _to_backlog(message: Any = None, category: str = "success") -> Response:
    if message:
        flash(str(message), category)
    return redirect(url_for("candidates.index"))


def _status(form: Any, problems: list[Any] | None = None) -> int:
    return 422 if form.errors or problems else 200


def _hide_people(entries: Iterable[service.Entry]) -> bool:
    """A consultancy never sees the client's members (docs/consultants.md): no proposer's name. True when
    the names were hidden."""
    if g.get("consulting") is None:
        return False
    for entry in entries:
        entry.proposer = None
        for merged in entry.merged:
            merged.proposer = None
    return True


@bp.route("/")
@require_permission(Action.view_candidates)
def index() -> Any:
    found = service.backlog(
        db.session(), current_org.default_hourly_rate, current_org.working_weeks_per_year, requested_page()
    )
    return render_template(
        "candidates/index.html",
        backlog=found,
        manager=_manager(),
        reopen_form=ConfirmForm(),
        people_hidden=_hide_people((*found.open.rows, *found.picked, *found.dismissed)),
    )


def _decided_list(status: CandidateStatus) -> Any:
    page = service.decided_page(
        db.session(), status, current_org.default_hourly_rate, current_org.working_weeks_per_year, requested_page()
    )
    return render_template(
        "candidates/decided.html",
        status=status.value,
        page=page,
        manager=_manager(),
        reopen_form=ConfirmForm(),
        people_hidden=_hide_people(page.rows),
    )


@bp.route("/picked/")
@require_permission(Action.view_candidates)
def picked() -> Any:
    """Every picked candidate, a page at a time, newest first; the backlog shows the latest few."""
    return _decided_list(CandidateStatus.picked)


@bp.route("/dismissed/")
@require_permission(Action.view_candidates)
def dismissed() -> Any:
    """Every dismissed candidate, a page at a time, newest first; the backlog shows the latest few."""
    return _decided_list(CandidateStatus.dismissed)


def _render_form(form: CandidateForm, candidate: Candidate | None, problems: list[Any] | None = None) -> Any:
    page = render_template("candidates/form.html", form=form, candidate=candidate, problems=problems or [])
    return page, _status(form, problems)


@bp.route("/new", methods=["GET", "POST"])
@require_permission(Action.propose_candidate)
def new() -> Any:
    form = CandidateForm()
    if not form.validate_on_submit():
        return _render_form(form, None)
    try:
        service.propose(db.session(), form.data_for_service(), current_user.id)
    except service.CandidateRefused as refused:
        db.session.rollback()
        return _render_form(form, None, refused.problems)
    db.session.commit()
    return _to_backlog(_("Thank you: your candidate is in the backlog."))


@bp.route("/<int:candidate_id>/edit", methods=["GET", "POST"])
@require_permission(Action.propose_candidate)
def edit(candidate_id: int) -> Any:
    candidate = _candidate_or_404(candidate_id)
    if not service.may_edit(candidate, current_user.id, manager=_manager()):
        # Not a 403: the member may propose and edit, only not this one (someone else's, or no longer open).
        return _to_backlog(
            _("Only its proposer or an owner or admin may change a candidate, and only while it is open."), "warning"
        )
    form = CandidateForm(obj=candidate if request.method == "GET" else None)
    if request.method == "GET":
        form.category.data = candidate.category.value
        form.effort.data = candidate.effort.value
        form.data_available.data = candidate.data_available.value
    if not form.validate_on_submit():
        return _render_form(form, candidate)
    try:
        service.edit(db.session(), candidate, form.data_for_service(), current_user.id, manager=_manager())
    except service.CandidateRefused as refused:
        db.session.rollback()
        return _render_form(form, candidate, refused.problems)
    db.session.commit()
    return _to_backlog(_("Candidate saved."))


def _merge_targets(candidate: Candidate) -> list[SelectChoice]:
    others = service.open_ranked(db.session(), current_org.default_hourly_rate, current_org.working_weeks_per_year)
    return [SelectChoice(str(other.id), other.title) for other in others if other.id != candidate.id]


@bp.route("/<int:candidate_id>/merge", methods=["GET", "POST"])
@require_permission(Action.manage_candidates)
def merge(candidate_id: int) -> Any:
    candidate = _candidate_or_404(candidate_id)
    if not candidate.is_open:
        return _to_backlog(service.NOT_OPEN, "warning")
    form = MergeForm(targets=_merge_targets(candidate))
    problems: list[Any] = []
    if form.validate_on_submit():
        into = db.session.get(Candidate, form.into.data)
        try:
            if into is None:
                raise service.CandidateRefused([_("Please choose an open candidate.")])
            service.merge(db.session(), candidate, into, current_user.id)
        except service.CandidateRefused as refused:
            db.session.rollback()
            problems = refused.problems
        else:
            db.session.commit()
            return _to_backlog(
                _("Merged: “%(title)s” is now part of “%(into)s”.", title=candidate.title, into=into.title)
            )
    page = render_template("candidates/merge.html", form=form, candidate=candidate, problems=problems)
    return page, _status(form, problems)


@bp.route("/<int:candidate_id>/dismiss", methods=["GET", "POST"])
@require_permission(Action.manage_candidates)
def dismiss(candidate_id: int) -> Any:
    candidate = _candidate_or_404(candidate_id)
    if not candidate.is_open:
        return _to_backlog(service.NOT_OPEN, "warning")
    form = DismissForm()
    problems: list[Any] = []
    if form.validate_on_submit():
        try:
            service.dismiss(db.session(), candidate, form.reason.data, current_user.id)
        except service.CandidateRefused as refused:
            db.session.rollback()
            problems = refused.problems
        else:
            db.session.commit()
            return _to_backlog(_("Candidate dismissed. You can reopen it from the backlog."))
    page = render_template("candidates/dismiss.html", form=form, candidate=candidate, problems=problems)
    return page, _status(form, problems)


@bp.route("/<int:candidate_id>/reopen", methods=["POST"])
@require_permission(Action.manage_candidates)
def reopen(candidate_id: int) -> Any:
    candidate = _candidate_or_404(candidate_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _to_backlog(_("The form has expired. Please submit it again."), "warning")
    try:
        service.reopen(db.session(), candidate, current_user.id)
    except service.CandidateRefused as refused:
        db.session.rollback()
        return _to_backlog(refused.problems[0], "warning")
    db.session.commit()
    return _to_backlog(_("Candidate reopened."))


@bp.route("/<int:candidate_id>/pick", methods=["GET", "POST"])
@require_permission(Action.manage_candidates)
def pick(candidate_id: int) -> Any:
    candidate = _candidate_or_404(candidate_id)
    if not candidate.is_open:
        return _to_backlog(service.NOT_OPEN, "warning")
    session = db.session()
    form = PickForm()
    others = cycles.open_cycles(session)
    if form.validate_on_submit():
        try:
            cycle = service.pick(
                session,
                candidate,
                actor_id=current_user.id,
                # A consultant leaves "Responsible" to the client, as when naming a bottleneck.
                owner_id=None if g.get("consulting") is not None else current_user.id,
                who_label=_("Who feels it"),
                confirm_second_open=bool(form.confirm_focus.data),
            )
        except cycles.FocusConfirmationRequired:
            session.rollback()
            form.confirm_focus.errors = [
                _("Another cycle is still open. Confirm that you want to work on two bottlenecks at once.")
            ]
        else:
            cycle_id = cycle.id
            db.session.commit()
            flash(_("Picked: the candidate is now a cycle. Next: check its numbers in the status quo."), "success")
            return redirect(url_for("cycles.show", cycle_id=cycle_id))
    page = render_template(
        "candidates/pick.html",
        form=form,
        candidate=candidate,
        others=others,
        previous=service.cycle_to_follow(session),
    )
    return page, _status(form)
