"""A cycle's measurements: entering, correcting and deleting one (the form is the measurement section's)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, request
from flask_babel import gettext as _
from flask_login import current_user

from engpass.cycles import service
from engpass.cycles.forms import ConfirmForm
from engpass.cycles.models import Cycle, Measurement
from engpass.cycles.views.common import bp, cycle_or_404, to_show
from engpass.cycles.views.cycle_page import change_on_page, render_show
from engpass.cycles.views.sections import MEASUREMENT, handle
from engpass.db import db
from engpass.organizations.permissions import Action, require_permission


def _measurement_or_404(cycle: Cycle, measurement_id: int) -> Measurement:
    measurement = db.session.get(Measurement, measurement_id)
    if measurement is None or measurement.cycle_id != cycle.id:
        abort(404)
    return measurement


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
    return to_show(cycle_id, "result")
