"""Changing a cycle's indirect cost items, and keeping ``Cycle.indirect_cost_per_week`` in step with them.

The weekly figure is derived: the items' sum per year divided by the organization's working weeks. The
business case's saved cost, the exports and the API read it, so every change of an item — and every new
hourly rate (waiting time is valued at it) or number of working weeks — writes it again here. Like
``cycles.service``, each change lands in the audit log and marks the trend changed.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from engpass.audit.service import audit_value, record
from engpass.cycles import indirect_costs
from engpass.cycles.forms import MONEY_BELOW
from engpass.cycles.models import Cycle, IndirectCostItem, IndirectKind
from engpass.cycles.rules import StageRuleViolation
from engpass.cycles.service import _first_day
from engpass.organizations.models import Organization
from engpass.trends.service import mark_changed

TOO_MUCH = _l("Together the indirect costs would be more per week than can be stored. Please check the amounts.")

ITEM_FIELDS = ("label", "kind", "quantity", "unit_value", "people_affected", "period", "source", "source_note")


def _used_only(data: dict[str, Any]) -> dict[str, Any]:
    """The item's numbers with those its kind does not use emptied, so none lingers unseen in a sum."""
    data = dict(data)
    kind = IndirectKind(data["kind"])
    if kind not in indirect_costs.USES_QUANTITY:
        data["quantity"] = None
    if kind not in indirect_costs.USES_UNIT_VALUE:
        data["unit_value"] = None
    if kind not in indirect_costs.USES_PEOPLE:
        data["people_affected"] = None
    for name in ("label", "source_note"):
        data[name] = (data.get(name) or "").strip()
    return data


def _org(session: Session, cycle: Cycle) -> Organization:
    org = session.get(Organization, cycle.organization_id)
    assert org is not None  # a cycle's organization exists while the cycle does
    return org


def refresh_weekly(cycle: Cycle, org: Organization) -> None:
    """Write the items' weekly figure on the cycle (None without items), only when it differs: an unchanged
    figure leaves the cycle's row, and its last change, alone."""
    items = list(cycle.indirect_cost_items)
    weekly = None
    if items:
        costs = indirect_costs.item_costs(items, org.default_hourly_rate, org.working_weeks_per_year)
        weekly = indirect_costs.weekly(indirect_costs.per_year(costs), org.working_weeks_per_year)
    if cycle.indirect_cost_per_week != weekly:
        cycle.indirect_cost_per_week = weekly


def refresh_organization(session: Session, org: Organization) -> None:
    """After a new hourly rate or number of working weeks: every cycle's weekly figure again (two queries)."""
    stmt = select(Cycle).where(Cycle.indirect_cost_items.any()).options(selectinload(Cycle.indirect_cost_items))
    for cycle in session.scalars(stmt):
        refresh_weekly(cycle, org)


def _changed(session: Session, cycle: Cycle) -> None:
    """Raises StageRuleViolation when the items together are more per week than the cycle's column holds."""
    session.flush()
    session.expire(cycle, ["indirect_cost_items"])
    refresh_weekly(cycle, _org(session, cycle))
    if cycle.indirect_cost_per_week is not None and cycle.indirect_cost_per_week >= MONEY_BELOW:
        raise StageRuleViolation([TOO_MUCH])
    mark_changed(session, _first_day(cycle))


def _record_item(
    session: Session, action: str, cycle: Cycle, item: IndirectCostItem, changes: dict, actor_id: int | None
) -> None:
    record(
        session,
        action,
        actor_id=actor_id,
        object_type="cycle",
        object_id=cycle.id,
        item_id=item.id,
        changes=changes,
    )


def add_item(session: Session, cycle: Cycle, data: dict[str, Any], actor_id: int | None) -> IndirectCostItem:
    values = _used_only(data)
    last = session.scalar(select(func.max(IndirectCostItem.position)).where(IndirectCostItem.cycle_id == cycle.id))
    item = IndirectCostItem(cycle_id=cycle.id, position=(last or 0) + 1, created_by_id=actor_id)
    changes = {}
    for name in ITEM_FIELDS:
        setattr(item, name, values[name])
        if values[name] not in (None, ""):
            changes[name] = [None, audit_value(values[name])]
    session.add(item)
    session.flush()
    _record_item(session, "indirect_cost.added", cycle, item, changes, actor_id)
    _changed(session, cycle)
    return item


def update_item(
    session: Session, cycle: Cycle, item: IndirectCostItem, data: dict[str, Any], actor_id: int | None
) -> dict[str, list[Any]]:
    values = _used_only({name: data.get(name, getattr(item, name)) for name in ITEM_FIELDS})
    changes = {}
    for name in ITEM_FIELDS:
        old, new = getattr(item, name), values[name]
        if old != new:
            changes[name] = [audit_value(old), audit_value(new)]
            setattr(item, name, new)
    if changes:
        _record_item(session, "indirect_cost.updated", cycle, item, changes, actor_id)
        _changed(session, cycle)
    return changes


def delete_item(session: Session, cycle: Cycle, item: IndirectCostItem, actor_id: int | None) -> None:
    changes = {name: [audit_value(getattr(item, name)), None] for name in ITEM_FIELDS}
    _record_item(session, "indirect_cost.deleted", cycle, item, changes, actor_id)
    session.delete(item)
    _changed(session, cycle)
