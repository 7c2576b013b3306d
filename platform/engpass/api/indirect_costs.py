"""A cycle's indirect cost items over the API: adding, changing and deleting one.

Each change goes through ``cycles.indirect_service`` — the same audit events, the same derived
``indirect_cost_per_week`` and trend recompute as the cycle page. The cycle's document lists the items
(``indirect_cost_items``); the business case has their sum and the share resting on guesses.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_babel import gettext as _

from engpass.api.blueprint import bp, endpoint
from engpass.api.indirect_cost_schemas import (
    IndirectCostItemCreateSchema,
    IndirectCostItemPatchSchema,
    IndirectCostItemSchema,
)
from engpass.api.problems import rule_violation
from engpass.cycles import indirect_costs, indirect_service
from engpass.cycles.models import Cycle, IndirectCostItem, IndirectKind
from engpass.cycles.rules import StageRuleViolation
from engpass.db import db
from engpass.organizations.permissions import Action

TAG = "Cycles"
OUTPUT_FIELDS = tuple(
    name for name in IndirectCostItemSchema().fields if name not in ("cost_per_year", "formula", "currency")
)


def document(item: IndirectCostItem) -> dict[str, Any]:
    """The item with its yearly cost by the organization's rate and working weeks, and its formula."""
    rate, weeks = g.org.default_hourly_rate, g.org.working_weeks_per_year
    cost = indirect_costs.item_cost(item, rate, weeks)
    return {
        **{name: getattr(item, name) for name in OUTPUT_FIELDS},
        "cost_per_year": cost.per_year,
        "formula": indirect_costs.formula(cost, rate, weeks, g.org.currency),
        "currency": g.org.currency,
    }


def _cycle_or_404(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    return cycle


def _item_or_404(cycle: Cycle, item_id: int) -> IndirectCostItem:
    item = db.session.get(IndirectCostItem, item_id)
    if item is None or item.cycle_id != cycle.id:
        abort(404)
    return item


def _check_needs(values: dict[str, Any]) -> None:
    """The numbers the kind's formula needs: one missing is refused like a rule of the method (409)."""
    kind = IndirectKind(values["kind"])
    needs = [
        ("quantity", indirect_costs.USES_QUANTITY, _("Please enter how many (or how many hours).")),
        ("unit_value", indirect_costs.USES_UNIT_VALUE, _("Please enter the amount.")),
        ("people_affected", indirect_costs.USES_PEOPLE, _("Please enter how many people wait.")),
    ]
    for name, kinds, message in needs:
        if kind in kinds and values.get(name) is None:
            raise rule_violation([message], name)


@endpoint("/cycles/<int:cycle_id>/indirect-costs", "POST", Action.edit_cycle, tag=TAG, errors=(409,))
@bp.arguments(IndirectCostItemCreateSchema)
@bp.response(201, IndirectCostItemSchema)
def add_indirect_cost(data: dict[str, Any], cycle_id: int) -> tuple[dict[str, Any], int]:
    """Add an indirect cost item to the cycle's status quo; its cost per year joins the status quo's."""
    cycle = _cycle_or_404(cycle_id)
    values = {name: data.get(name) for name in indirect_service.ITEM_FIELDS}
    _check_needs(values)
    try:
        item = indirect_service.add_item(db.session(), cycle, values, g.api_user.id)
    except StageRuleViolation as refused:
        db.session.rollback()
        raise rule_violation(refused.problems, "unit_value") from None
    db.session.commit()
    return document(item), 201


@endpoint("/cycles/<int:cycle_id>/indirect-costs/<int:item_id>", "PATCH", Action.edit_cycle, tag=TAG, errors=(409,))
@bp.arguments(IndirectCostItemPatchSchema)
@bp.response(200, IndirectCostItemSchema)
def update_indirect_cost(data: dict[str, Any], cycle_id: int, item_id: int) -> dict[str, Any]:
    """Change any of an item's fields; with another kind, send the numbers that kind needs."""
    cycle = _cycle_or_404(cycle_id)
    item = _item_or_404(cycle, item_id)
    values = {name: data.get(name, getattr(item, name)) for name in indirect_service.ITEM_FIELDS}
    _check_needs(values)
    try:
        indirect_service.update_item(db.session(), cycle, item, values, g.api_user.id)
    except StageRuleViolation as refused:
        db.session.rollback()
        raise rule_violation(refused.problems, "unit_value") from None
    db.session.commit()
    return document(item)


@endpoint("/cycles/<int:cycle_id>/indirect-costs/<int:item_id>", "DELETE", Action.edit_cycle, tag=TAG)
@bp.response(204)
def delete_indirect_cost(cycle_id: int, item_id: int) -> tuple[str, int]:
    """Delete an indirect cost item."""
    cycle = _cycle_or_404(cycle_id)
    indirect_service.delete_item(db.session(), cycle, _item_or_404(cycle, item_id), g.api_user.id)
    db.session.commit()
    return "", 204
