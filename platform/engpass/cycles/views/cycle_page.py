"""The cycle page, moving a cycle to another stage, and deleting it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from engpass.accounts.models import User
from engpass.cached_pages import store_page
from engpass.cycles import measurement_reads, service
from engpass.cycles.business_case import compute, status_quo_cost
from engpass.cycles.chart import kpi_chart
from engpass.cycles.effect_figures import (
    accuracy_text,
    achieved_figure,
    contribution_figure,
    forecast_rows,
    with_contribution,
)
from engpass.cycles.figures import business_case_figures, guessed_share_figure, status_quo_figure
from engpass.cycles.forecast import compare
from engpass.cycles.forms import STAGE_LABELS, DeleteForm, StageForm
from engpass.cycles.indirect_costs import ItemCost, formula
from engpass.cycles.models import STAGE_ORDER, Cycle, Stage
from engpass.cycles.revenue import contribution
from engpass.cycles.rules import StageRuleViolation, problems_to_enter
from engpass.cycles.views.common import bp, cycle_or_404, deciders, flags_of, org_today, status_of, to_show
from engpass.cycles.views.guidance import GUIDANCE, NEXT_ACTION
from engpass.db import db
from engpass.organizations.context import current_org
from engpass.organizations.permissions import Action, can_decide, require_permission
from engpass.rollouts.panel import panel_for
from engpass.trends.dashboard import trend_state
from engpass.trends.portfolio import forecast_accuracy


def _indirect_rows(costs: tuple[ItemCost, ...]) -> list[tuple[ItemCost, str]]:
    """Each indirect cost item with its yearly cost's formula, for the status quo's list."""
    rate, weeks = current_org.default_hourly_rate, current_org.working_weeks_per_year
    return [(cost, formula(cost, rate, weeks, current_org.currency)) for cost in costs]


def render_show(cycle: Cycle, problems: list[Any] | None = None, status: int = 200) -> tuple[str, int]:
    today = org_today()
    session = db.session()
    # The page reads a bounded number of rows however many measurements there are: the count, the latest few
    # (which hold the latest one, all the business case needs) and the chart's sample.
    total = service.measurement_count(session, cycle)
    measurements = measurement_reads.latest(session, cycle) if total else []
    sample = measurement_reads.chart_sample(session, cycle, total) if total else []
    steps = list(cycle.steps)
    chain = service.chain_of(db.session(), cycle)
    owner = db.session.get(User, cycle.owner_id) if cycle.owner_id is not None else None
    sponsor = db.session.get(User, cycle.sponsor_id) if cycle.sponsor_id is not None else None
    case_ = compute(cycle, measurements, current_org.default_hourly_rate, current_org.working_weeks_per_year)
    status_quo = status_quo_cost(cycle, current_org.default_hourly_rate, current_org.working_weeks_per_year)
    rate, weeks, currency = current_org.default_hourly_rate, current_org.working_weeks_per_year, current_org.currency
    forecast = compare(cycle, measurements, case_, rate, weeks)
    added = contribution_figure(cycle, contribution(cycle, case_.kpi_current, weeks), case_.measured, currency)
    # The organization's accuracy as the trends' last recompute wrote it: one query, however many cycles.
    state = trend_state(db.session())
    next_stage = STAGE_ORDER[cycle.stage_index() + 1] if cycle.is_open else None
    position = next(i for i, c in enumerate(chain) if c.id == cycle.id)
    follower = chain[position + 1] if position + 1 < len(chain) else None
    stage_form = StageForm()
    stage_form.target.choices = [
        SelectChoice(stage.value, STAGE_LABELS[stage]) for stage in STAGE_ORDER if stage != cycle.stage
    ]
    # Preselect the likely move: forward while open, one step back once decided.
    stage_form.target.data = (next_stage or STAGE_ORDER[cycle.stage_index() - 1]).value
    return (
        render_template(
            "cycles/show.html",
            cycle=cycle,
            owner=owner,
            sponsor=sponsor,
            may_decide=can_decide(cycle.sponsor_id),
            deciders=deciders(cycle, sponsor),
            steps=steps,
            minutes_total=sum(step.minutes for step in steps),
            measurements=measurements,
            measurement_total=total,
            chain=chain,
            case=case_,
            figures=with_contribution(business_case_figures(cycle, measurements, case_, rate, currency), added),
            forecast=forecast,
            forecast_rows=forecast_rows(cycle, forecast, currency),
            achieved=achieved_figure(forecast, currency),
            accuracy=accuracy_text(forecast_accuracy(state.portfolio if state is not None else None)),
            status_quo=status_quo_figure(cycle, status_quo, current_org.default_hourly_rate, current_org.currency)
            if status_quo is not None
            else None,
            guessed_share=guessed_share_figure(status_quo, current_org.currency) if status_quo is not None else None,
            indirect_rows=_indirect_rows(status_quo.indirect_items) if status_quo is not None else [],
            chart=kpi_chart(cycle, sample, today, total),
            flags=flags_of(cycle, total, today),
            guidance=GUIDANCE[cycle.stage],
            next_action=NEXT_ACTION[cycle.stage],
            follower=follower,
            next_stage=next_stage,
            open_for_next=problems_to_enter(cycle, next_stage, total) if next_stage else [],
            problems=problems or [],
            stage_form=stage_form,
            today=today,
            rollout=panel_for(db.session(), cycle, case_, rate, weeks, currency, today),
        ),
        status,
    )


def change_on_page(cycle: Cycle, change: Callable[[], object]) -> tuple[str, int] | None:
    """Run a change asked for on the cycle page and commit it; on a rule's refusal roll back and answer
    the page again with the rule's words."""
    try:
        change()
    except StageRuleViolation as refused:
        db.session.rollback()
        return render_show(cycle, refused.problems, 422)
    db.session.commit()
    return None


@bp.route("/<int:cycle_id>/")
@require_permission(Action.view_cycles)
def show(cycle_id: int) -> tuple[str, int]:
    page, status = render_show(cycle_or_404(cycle_id))
    store_page(current_org.id, page)
    return page, status


@bp.route("/<int:cycle_id>/stage", methods=["GET", "POST"])
@require_permission(Action.edit_cycle)
def stage(cycle_id: int) -> Any:
    cycle = cycle_or_404(cycle_id)
    if request.method == "GET":
        return to_show(cycle_id)
    form = StageForm()
    if not form.validate_on_submit():
        return render_show(cycle, [_("Please choose one of the stages.")], 422)
    target = Stage(form.target.data)
    backwards = STAGE_ORDER.index(target) < cycle.stage_index()
    if target == Stage.decided and not backwards and not can_decide(cycle.sponsor_id):
        # Entering "decided" records the decision the cycle holds: the sponsor's or an owner's to make.
        return render_show(cycle, [deciders(cycle)], 403)
    refused = change_on_page(cycle, lambda: service.change_stage(db.session(), cycle, target, current_user.id))
    if refused is not None:
        return refused
    label = STAGE_LABELS[target]
    flash(_("Moved back to %(stage)s.", stage=label) if backwards else _("Moved to %(stage)s.", stage=label), "success")
    return to_show(cycle_id)


@bp.route("/<int:cycle_id>/delete", methods=["GET", "POST"])
@require_permission(Action.delete_cycle)
def delete(cycle_id: int) -> Any:
    cycle = cycle_or_404(cycle_id)
    form = DeleteForm()
    if form.validate_on_submit():
        title = cycle.title
        service.delete_cycle(db.session(), cycle, current_user.id)
        db.session.commit()
        flash(_("The cycle “%(title)s” was deleted.", title=title), "success")
        return redirect(url_for("cycles.board"))
    measurement_total = service.measurement_count(db.session(), cycle)
    return (
        render_template("cycles/delete.html", cycle=cycle, form=form, measurement_total=measurement_total),
        status_of(form),
    )
