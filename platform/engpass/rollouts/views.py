"""The rollout's pages under a cycle: opening or changing it, its measurements, and the list of all of them
page by page. The cycle page shows it with its latest measurements (``panel.py``); these are the forms and the
list behind its buttons.

Who may edit the cycle opens and changes the rollout; who may record measurements measures it. Only a
cycle decided "scale" has one: for any other the forms answer 404, as for a cycle of another organization.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from engpass.cycles.forms import MEASURED_IN_FUTURE, ConfirmForm
from engpass.cycles.models import Cycle
from engpass.cycles.rules import StageRuleViolation
from engpass.cycles.service import MeasuredInFuture
from engpass.db import db
from engpass.formatting import day, money, number
from engpass.gateway.web import org_blueprint
from engpass.i18n import today_in
from engpass.organizations.context import current_org
from engpass.organizations.permissions import Action, require_permission
from engpass.page_request import requested_page
from engpass.paging import page_number
from engpass.rollouts import measurement_reads, service
from engpass.rollouts.forms import RolloutForm, RolloutMeasurementForm
from engpass.rollouts.labels import REACHED_UNITS
from engpass.rollouts.models import Reach, Rollout, RolloutMeasurement

bp = org_blueprint("rollouts", __name__, "/cycles")

ANCHOR = "rollout"
GUIDANCE = _l(
    "Scaling is tracked, not just decided: say whom the solution should reach, what scaling costs, and measure "
    "adoption and the effect again 30, 60 and 90 days after the start."
)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"number": number, "day": day, "money": lambda value: money(value, current_org.currency)}


def _scaled_or_404(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None or not service.is_scaled(cycle):
        abort(404)
    return cycle


def _rollout_or_404(cycle: Cycle) -> Rollout:
    rollout = measurement_reads.rollout_alone(db.session(), cycle)
    if rollout is None:
        abort(404)
    return rollout


def _measurement_or_404(rollout: Rollout, measurement_id: int) -> RolloutMeasurement:
    measurement = db.session.get(RolloutMeasurement, measurement_id)
    if measurement is None or measurement.rollout_id != rollout.id:
        abort(404)
    return measurement


def _to_cycle(cycle: Cycle) -> Response:
    return redirect(url_for("cycles.show", cycle_id=cycle.id, _anchor=ANCHOR))


def _render(template: str, cycle: Cycle, form: Any, problems: list[Any], **context: Any) -> tuple[str, int]:
    status = 422 if form.errors or problems else 200
    page = render_template(template, cycle=cycle, form=form, problems=problems, guidance=GUIDANCE, **context)
    return page, status


def _save(change: Callable[[], object], cycle: Cycle, message: str, rerender: Callable[[list[Any]], Any]) -> Any:
    """Run a service call; on a rule's refusal roll back and show the form again with the rule's words."""
    try:
        change()
    except StageRuleViolation as refused:
        db.session.rollback()
        return rerender(refused.problems)
    except MeasuredInFuture:
        # The form checked the day already; this is midnight passing in between.
        db.session.rollback()
        return rerender([MEASURED_IN_FUTURE])
    db.session.commit()
    flash(message, "success")
    return _to_cycle(cycle)


def _data(form: Any, names: tuple[str, ...]) -> dict[str, Any]:
    data = {name: getattr(form, name).data for name in names}
    for name in ("target_count", "reached"):
        if data.get(name) is not None:
            data[name] = int(data[name])
    return data


@bp.route("/<int:cycle_id>/rollout", methods=["GET", "POST"])
@require_permission(Action.edit_cycle)
def edit(cycle_id: int) -> Any:
    cycle = _scaled_or_404(cycle_id)
    rollout = service.rollout_of(db.session(), cycle)
    form = RolloutForm(obj=rollout)
    if request.method == "GET" and rollout is None:
        form.reach.data = Reach.people.value
        form.started_on.data = today_in(current_org.timezone)

    def show(problems: list[Any]) -> tuple[str, int]:
        return _render("rollouts/form_rollout.html", cycle, form, problems, rollout=rollout)

    if not form.validate_on_submit():
        return show([])
    data = _data(form, service.ROLLOUT_FIELDS)
    message = _("Rollout saved.") if rollout is not None else _("Rollout opened.")
    return _save(lambda: service.save_rollout(db.session(), cycle, data, current_user.id), cycle, message, show)


def _measurement_page(cycle: Cycle, rollout: Rollout, measurement: RolloutMeasurement | None) -> Any:
    today = today_in(current_org.timezone)
    form = RolloutMeasurementForm(obj=measurement, not_before=rollout.started_on, not_after=today)
    if request.method == "GET" and measurement is None:
        form.measured_on.data = today if rollout.started_on <= today else None

    def show(problems: list[Any]) -> tuple[str, int]:
        return _render(
            "rollouts/form_measurement.html",
            cycle,
            form,
            problems,
            rollout=rollout,
            measurement=measurement,
            unit=REACHED_UNITS[Reach(rollout.reach)],
        )

    if not form.validate_on_submit():
        return show([])
    data = _data(form, service.MEASUREMENT_FIELDS)
    session = db.session()
    if measurement is None:
        return _save(
            lambda: service.add_measurement(session, cycle, rollout, data, current_user.id),
            cycle,
            _("Rollout measurement saved."),
            show,
        )
    return _save(
        lambda: service.update_measurement(session, cycle, rollout, measurement, data, current_user.id),
        cycle,
        _("Rollout measurement updated."),
        show,
    )


@bp.route("/<int:cycle_id>/rollout/measurements/")
@require_permission(Action.view_cycles)
def measurement_list(cycle_id: int) -> str:
    """Every measurement of the rollout, newest first: the cycle page shows the latest few."""
    cycle = _scaled_or_404(cycle_id)
    rollout = _rollout_or_404(cycle)
    number = requested_page()
    session = db.session()
    total = measurement_reads.count(session, rollout)
    page = measurement_reads.page(session, rollout, number, total)
    return render_template("rollouts/measurements.html", cycle=cycle, rollout=rollout, page=page)


@bp.route("/<int:cycle_id>/rollout/measurements/new", methods=["GET", "POST"])
@require_permission(Action.record_measurement)
def measurement_new(cycle_id: int) -> Any:
    cycle = _scaled_or_404(cycle_id)
    return _measurement_page(cycle, _rollout_or_404(cycle), None)


@bp.route("/<int:cycle_id>/rollout/measurements/<int:measurement_id>/edit", methods=["GET", "POST"])
@require_permission(Action.record_measurement)
def measurement_edit(cycle_id: int, measurement_id: int) -> Any:
    cycle = _scaled_or_404(cycle_id)
    rollout = _rollout_or_404(cycle)
    return _measurement_page(cycle, rollout, _measurement_or_404(rollout, measurement_id))


# Like the cycle's measurements: GET answers with a redirect, so the organization is resolved first.
@bp.route("/<int:cycle_id>/rollout/measurements/<int:measurement_id>/delete", methods=["GET", "POST"])
@require_permission(Action.record_measurement)
def measurement_delete(cycle_id: int, measurement_id: int) -> Any:
    cycle = _scaled_or_404(cycle_id)
    rollout = _rollout_or_404(cycle)
    measurement = _measurement_or_404(rollout, measurement_id)
    if request.method == "GET":
        return _to_cycle(cycle)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired. Please submit it again."), "danger")
        return _to_cycle(cycle)
    service.delete_measurement(db.session(), cycle, rollout, measurement, current_user.id)
    db.session.commit()
    flash(_("Rollout measurement deleted."), "success")
    # Deleted from a page of the list: back to that page (the list shows its last page for one past it).
    back = request.form.get("page")
    number = page_number(back) if back else None
    if number is not None:
        return redirect(url_for("rollouts.measurement_list", cycle_id=cycle.id, page=number if number > 1 else None))
    return _to_cycle(cycle)
