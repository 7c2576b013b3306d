"""A cycle's indirect cost items on the status quo: adding, editing and deleting one (the form is a
``Section`` like the method's others; its fields follow the item's kind, chosen by a link)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session

from engpass.cycles import indirect_service
from engpass.cycles.forms import ConfirmForm
from engpass.cycles.indirect_costs import KIND_LABELS
from engpass.cycles.indirect_forms import IndirectCostForm, kind_or_default
from engpass.cycles.models import CostSource, Cycle, IndirectCostItem, IndirectKind, Period, Stage
from engpass.cycles.views.common import bp, cycle_or_404, to_show
from engpass.cycles.views.cycle_page import change_on_page, render_show
from engpass.cycles.views.sections import Section, handle
from engpass.db import db
from engpass.organizations.permissions import Action, require_permission

ANCHOR = "indirect-costs"


def _item_or_404(cycle: Cycle, item_id: int) -> IndirectCostItem:
    item = db.session.get(IndirectCostItem, item_id)
    if item is None or item.cycle_id != cycle.id:
        abort(404)
    return item


def _kind(item: IndirectCostItem | None) -> IndirectKind:
    """The kind the form follows: as posted, else as a link chose it, else the item's."""
    default = IndirectKind(item.kind) if item is not None else IndirectKind.errors
    chosen = request.form.get("kind") if request.method == "POST" else request.args.get("kind")
    return kind_or_default(chosen, default) if chosen is not None else default


def _form(_cycle: Cycle, item: IndirectCostItem | None, _context: dict[str, Any]) -> IndirectCostForm:
    form = IndirectCostForm(obj=item, kind=_kind(item))
    if request.method == "GET" and item is None:
        form.period.data = (Period.year if form.chosen_kind == IndirectKind.penalties else Period.month).value
    return form


def _context(_cycle: Cycle, item: IndirectCostItem | None) -> dict[str, Any]:
    return {"item": item, "kinds": KIND_LABELS}


def _prepare(data: dict[str, Any]) -> None:
    data["label"] = data["label"] or ""
    data["source_note"] = data["source_note"] or ""
    if data["people_affected"] is not None:
        data["people_affected"] = int(data["people_affected"])


def _save(
    session: Session, cycle: Cycle, item: IndirectCostItem | None, data: dict[str, Any], _form: Any, actor: int
) -> None:
    if item is None:
        indirect_service.add_item(session, cycle, data, actor)
    else:
        indirect_service.update_item(session, cycle, item, data, actor)


INDIRECT_COST = Section(
    anchor=ANCHOR,
    stage=Stage.baseline,
    template="cycles/form_indirect_cost.html",
    form=_form,
    fields=indirect_service.ITEM_FIELDS,
    enums={"kind": IndirectKind, "period": Period, "source": CostSource},
    prepare=_prepare,
    save=_save,
    saved=_l("Indirect cost added."),
    updated=_l("Indirect cost updated."),
    context=_context,
)


@bp.route("/<int:cycle_id>/indirect-costs/new", methods=["GET", "POST"])
@require_permission(Action.edit_cycle)
def indirect_cost_new(cycle_id: int) -> Any:
    return handle(INDIRECT_COST, cycle_or_404(cycle_id))


@bp.route("/<int:cycle_id>/indirect-costs/<int:item_id>/edit", methods=["GET", "POST"])
@require_permission(Action.edit_cycle)
def indirect_cost_edit(cycle_id: int, item_id: int) -> Any:
    cycle = cycle_or_404(cycle_id)
    return handle(INDIRECT_COST, cycle, _item_or_404(cycle, item_id))


# Like the measurements' delete: GET answers with a redirect, so the organization is resolved first.
@bp.route("/<int:cycle_id>/indirect-costs/<int:item_id>/delete", methods=["GET", "POST"])
@require_permission(Action.edit_cycle)
def indirect_cost_delete(cycle_id: int, item_id: int) -> Any:
    cycle = cycle_or_404(cycle_id)
    item = _item_or_404(cycle, item_id)
    if request.method == "GET":
        return to_show(cycle_id, ANCHOR)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_show(cycle, [_("The form has expired. Please submit it again.")], 400)
    refused = change_on_page(cycle, lambda: indirect_service.delete_item(db.session(), cycle, item, current_user.id))
    if refused is not None:
        return refused
    flash(_("Indirect cost deleted."), "success")
    return to_show(cycle_id, ANCHOR)
