"""Naming a bottleneck: a new cycle, or the next one after a decided cycle."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from engpass.candidates import service as candidates
from engpass.candidates.views import template_helpers
from engpass.cycles import service
from engpass.cycles.forms import NewCycleForm
from engpass.cycles.models import Category, Cycle, Stage
from engpass.cycles.rules import StageRuleViolation
from engpass.cycles.templates import Suggestion, suggestions_for
from engpass.cycles.views.common import (
    bp,
    cycle_or_404,
    default_sponsor,
    owner_choices,
    self_or_nobody,
    sponsor_choices,
    status_of,
    to_show,
)
from engpass.db import db
from engpass.organizations.context import current_org
from engpass.organizations.permissions import Action, can, require_permission


def _suggestions_by_category() -> dict[str, list[Suggestion]]:
    grouped: dict[str, list[Suggestion]] = {category.value: [] for category in Category}
    for suggestion in suggestions_for(db.session()):
        grouped[suggestion.category.value].append(suggestion)
    return grouped


def _backlog(previous: Cycle | None) -> dict[str, Any]:
    """The next bottleneck starts from the open backlog, ranked, with a pick button each for those who decide."""
    if previous is None or previous.stage != Stage.decided:
        return {"backlog": []}
    ranked = candidates.open_ranked(db.session(), current_org.default_hourly_rate, current_org.working_weeks_per_year)
    helpers = template_helpers()
    # The cycle pages' own helpers keep their names; the backlog's table needs only these.
    return {
        "backlog": ranked,
        "backlog_manager": can(Action.manage_candidates),
        **{name: helpers[name] for name in ("figure_of", "effort_label", "data_label")},
    }


def _render_new(
    form: NewCycleForm, previous: Cycle | None, others: list[Cycle], status: int, problems: list[Any] | None = None
) -> tuple[str, int]:
    return (
        render_template(
            "cycles/new.html",
            form=form,
            previous=previous,
            others=others,
            problems=problems or [],
            suggestions=_suggestions_by_category(),
            **_backlog(previous),
        ),
        status,
    )


def _create(form: NewCycleForm, previous: Cycle | None) -> Any:
    others = service.open_cycles(db.session(), exclude_id=previous.id if previous is not None else None)
    if not form.validate_on_submit():
        return _render_new(form, previous, others, status_of(form))
    arguments = {
        "title": form.title.data,
        "category": Category(form.category.data),
        "why": form.why.data or "",
        "owner_id": form.owner_id.data or None,
        "sponsor_id": form.sponsor_id.data or None,
        "actor_id": current_user.id,
        "confirm_second_open": bool(form.confirm_focus.data),
    }
    try:
        if previous is not None:
            cycle = service.start_next_cycle(db.session(), previous, **arguments)
        else:
            cycle = service.create_cycle(db.session(), **arguments)
    except service.FocusConfirmationRequired:
        db.session.rollback()
        form.confirm_focus.errors.append(
            _("Another cycle is still open. Confirm that you want to work on two bottlenecks at once.")
        )
        return _render_new(form, previous, others, 422)
    except StageRuleViolation as refused:
        db.session.rollback()
        return _render_new(form, previous, others, 422, refused.problems)
    cycle_id = cycle.id
    db.session.commit()
    flash(_("Bottleneck named. Next: quantify the status quo."), "success")
    return to_show(cycle_id)


@bp.route("/new", methods=["GET", "POST"])
@require_permission(Action.create_cycle)
def new() -> Any:
    form = NewCycleForm(owners=owner_choices(), sponsors=sponsor_choices())
    if request.method == "GET":
        form.owner_id.data = self_or_nobody()
        form.sponsor_id.data = default_sponsor()
        if request.args.get("category") in Category.__members__:
            form.category.data = request.args["category"]
    return _create(form, None)


@bp.route("/<int:cycle_id>/next", methods=["GET", "POST"])
@require_permission(Action.create_cycle)
def next_cycle(cycle_id: int) -> Any:
    previous = cycle_or_404(cycle_id)
    if previous.stage != Stage.decided and request.method == "GET":
        flash(_("Decide this cycle before picking the next bottleneck."), "warning")
        return to_show(previous.id, "decision")
    form = NewCycleForm(owners=owner_choices(), sponsors=sponsor_choices())
    if request.method == "GET":
        form.owner_id.data = previous.owner_id or self_or_nobody()
        form.sponsor_id.data = previous.sponsor_id or default_sponsor()
    return _create(form, previous)
