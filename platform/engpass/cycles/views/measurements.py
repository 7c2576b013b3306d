"""A cycle's measurements: the list of all of them, page by page, and entering, correcting and deleting one
(the form is the measurement section's)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engpass.cycles import measurement_reads, service
from engpass.cycles.forms import ConfirmForm
from engpass.cycles.models import Cycle, Measurement
from engpass.cycles.views.common import bp, cycle_or_404, to_show
from engpass.cycles.views.cycle_page import change_on_page, render_show
from engpass.cycles.views.sections import MEASUREMENT, handle
from engpass.db import db
from engpass.organizations.permissions import Action, require_permission
from engpass.page_request import requested_page
from engpass.paging import page_number


def _measurement_or_404(cycle: Cycle, measurement_id: int) -> Measurement:
    measurement = db.session.get(Measurement, measurement_id)
    if measurement is None or measurement.cycle_id != cycle.id:
        abort(404)
    return measurement


@bp.route("/<int:cycle_id>/measurements/")
@require_permission(Action.view_cycles)
def measurement_list(cycle_id: int) -> str:
    """Every measurement of the cycle, newest first, ``PAGE_SIZE`` a page: the cycle page shows the latest few."""
    cycle = cycle_or_404(cycle_id)
    number = requested_page()
    session = db.session()
    total = service.measurement_count(session, cycle)
    return render_template(
        "cycles/measurements.html", cycle=cycle, page=measurement_reads.page(session, cycle, number, total)
    )


@bp.route("/<int:cycle_id>/measurements/new", methods=["GET", "POST"])
@require_permission(Action.record_measurement)
def measurement_new(cycle_id: int) -> Any:
    return handle(MEASUREMENT, cycle_or_404(cycle_id))


@bp.route("/<int:cycle_id>/measurements/<int:measurement_id>/edit", methods=["GET", "POST"])
@require_permission(Action.record_measurement)
def measurement_edit(cycle_id: int, measurement_id: int) -> Any:
    cycle = cycle_or_404(cycle_id)
    return handle(MEASUREMENT, cycle, _measurement_or_404(cycle, measurement_id))


# The POST-only actions also answer GET with a redirect: every organization URL then resolves the
# organization first (login for visitors, 404 for outsiders) instead of a bare 405.
@bp.route("/<int:cycle_id>/measurements/<int:measurement_id>/delete", methods=["GET", "POST"])
@require_permission(Action.record_measurement)
def measurement_delete(cycle_id: int, measurement_id: int) -> Any:
    cycle = cycle_or_404(cycle_id)
    measurement = _measurement_or_404(cycle, measurement_id)
    if request.method == "GET":
        return to_show(cycle_id, "result")
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_show(cycle, [_("The form has expired. Please submit it again.")], 400)
    refused = change_on_page(
        cycle, lambda: service.delete_measurement(db.session(), cycle, measurement, current_user.id)
    )
    if refused is not None:
        return refused
    flash(_("Measurement deleted."), "success")
    # Deleted from a page of the list: back to that page (the list shows its last page for one past it).
    back = request.form.get("page")
    number = page_number(back) if back else None
    if number is not None:
        return redirect(url_for("cycles.measurement_list", cycle_id=cycle_id, page=number if number > 1 else None))
    return to_show(cycle_id, "result")
