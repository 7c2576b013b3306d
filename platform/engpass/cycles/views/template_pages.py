"""The organization's own cycle templates beside the built-in ones: list, add, delete, and make one from a
decided cycle."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from engpass.audit.service import record
from engpass.cycles.forms import ConfirmForm, TemplateForm
from engpass.cycles.models import Category, CycleTemplate, KpiDirection
from engpass.cycles.proven_templates import make_template, reference
from engpass.cycles.rules import StageRuleViolation
from engpass.cycles.templates import CATEGORY_LABELS, Suggestion, builtin_suggestions
from engpass.cycles.views.common import bp, cycle_or_404, status_of, to_show
from engpass.db import db
from engpass.organizations.context import current_org
from engpass.organizations.permissions import Action, require_permission


def _render_templates(form: TemplateForm) -> tuple[str, int]:
    own = list(db.session.scalars(select(CycleTemplate).order_by(CycleTemplate.category, CycleTemplate.name)))
    builtin: dict[str, list[Suggestion]] = {}
    for suggestion in builtin_suggestions():
        builtin.setdefault(suggestion.category.value, []).append(suggestion)
    return (
        render_template(
            "cycles/templates.html",
            form=form,
            own=own,
            builtin=builtin,
            categories=CATEGORY_LABELS,
            proven_reference=reference,
        ),
        status_of(form),
    )


def _about(template: CycleTemplate) -> dict[str, Any]:
    """What the audit log records of a template change besides the action."""
    return {
        "actor_id": current_user.id,
        "object_type": "cycle_template",
        "object_id": template.id,
        "name": template.name,
    }


@bp.route("/templates", methods=["GET", "POST"])
@require_permission(Action.view_templates, write=Action.manage_templates)
def templates() -> Any:
    form = TemplateForm()
    if form.validate_on_submit():
        template = CycleTemplate(
            category=Category(form.category.data),
            name=form.name.data,
            kpi_name=form.kpi_name.data,
            kpi_unit=form.kpi_unit.data,
            kpi_direction=KpiDirection(form.kpi_direction.data),
            solutions=form.solution_lines(),
        )
        db.session.add(template)
        db.session.flush()
        record(db.session, "cycle_template.created", **_about(template))
        db.session.commit()
        flash(_("Template saved. It is suggested for new bottlenecks of this category."), "success")
        return redirect(url_for("cycles.templates", _anchor="own"))
    return _render_templates(form)


@bp.route("/templates/<int:template_id>/delete", methods=["GET", "POST"])
@require_permission(Action.manage_templates)
def template_delete(template_id: int) -> Any:
    template = db.session.get(CycleTemplate, template_id)
    if template is None:
        abort(404)
    if request.method == "GET":
        return redirect(url_for("cycles.templates", _anchor="own"))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    record(db.session, "cycle_template.deleted", **_about(template))
    db.session.delete(template)
    db.session.commit()
    flash(_("Template deleted."), "success")
    return redirect(url_for("cycles.templates", _anchor="own"))


@bp.route("/<int:cycle_id>/template", methods=["GET", "POST"])
@require_permission(Action.make_template)
def template_from_cycle(cycle_id: int) -> Any:
    """A decided cycle becomes a template of the organization, carrying its measured numbers."""
    cycle = cycle_or_404(cycle_id)
    if request.method == "GET":
        return to_show(cycle.id, "decision")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        make_template(
            db.session(), cycle, current_org.default_hourly_rate, current_org.working_weeks_per_year, current_user.id
        )
    except StageRuleViolation as refused:
        db.session.rollback()
        for problem in refused.problems:
            flash(str(problem), "warning")
        return to_show(cycle.id, "decision")
    db.session.commit()
    flash(
        _(
            "Template saved with the cycle's measured numbers. "
            "It is suggested first for new bottlenecks of this category."
        ),
        "success",
    )
    return redirect(url_for("cycles.templates", _anchor="own"))
