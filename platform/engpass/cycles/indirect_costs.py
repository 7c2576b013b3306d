"""What an indirect cost item costs a year, with its formula: the arithmetic of docs/business-case.md
("Indirect cost items"), shared by the cycle page, the printable business case, the API and the exports.

Each kind has its own formula for one period (a week, a month or a year):

- errors: errors × cost per error (rework, credit notes)
- lost orders: lost orders × contribution margin per order
- waiting: hours waiting per person × people affected × the organization's hourly rate
- penalties: penalties × amount per penalty
- other: the amount

and the period makes it yearly: a week × the organization's working weeks, a month × 12, a year × 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from engpass.cycles.models import CostSource, IndirectCostItem, IndirectKind, Period
from engpass.formatting import money, number

CENT = Decimal("0.01")

KIND_LABELS = {
    IndirectKind.errors: _l("Errors"),
    IndirectKind.lost_orders: _l("Lost orders"),
    IndirectKind.waiting: _l("Waiting time"),
    IndirectKind.penalties: _l("Penalties"),
    IndirectKind.other: _l("Other"),
}
SOURCE_LABELS = {
    CostSource.measured: _l("Measurement"),
    CostSource.estimated: _l("Estimate"),
    CostSource.guess: _l("Guess"),
}
PERIOD_LABELS = {
    Period.week: _l("per week"),
    Period.month: _l("per month"),
    Period.year: _l("per year"),
}
# Which of an item's numbers its kind uses: the others are stored empty.
USES_QUANTITY = frozenset(kind for kind in IndirectKind if kind != IndirectKind.other)
USES_UNIT_VALUE = frozenset(kind for kind in IndirectKind if kind != IndirectKind.waiting)
USES_PEOPLE = frozenset({IndirectKind.waiting})


@dataclass(frozen=True)
class ItemCost:
    item: IndirectCostItem
    per_period: Decimal  # what one week, month or year of it costs
    per_year: Decimal  # in cents

    @property
    def guessed(self) -> bool:
        return CostSource(self.item.source) == CostSource.guess


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def per_period(item: IndirectCostItem, hourly_rate: Decimal) -> Decimal:
    """One period's cost by the kind's formula; a number the kind needs and the item lacks counts as 0."""
    kind = IndirectKind(item.kind)
    quantity = Decimal(item.quantity or 0)
    if kind == IndirectKind.waiting:
        return quantity * Decimal(item.people_affected or 0) * Decimal(hourly_rate)
    value = Decimal(item.unit_value or 0)
    return value if kind == IndirectKind.other else quantity * value


def item_cost(item: IndirectCostItem, hourly_rate: Decimal, weeks_per_year: int) -> ItemCost:
    once = per_period(item, hourly_rate)
    return ItemCost(item, once, _cents(once * Decimal(Period(item.period).per_year(weeks_per_year))))


def item_costs(items: Iterable[IndirectCostItem], hourly_rate: Decimal, weeks_per_year: int) -> list[ItemCost]:
    return [item_cost(item, hourly_rate, weeks_per_year) for item in items]


def per_year(costs: Sequence[ItemCost]) -> Decimal:
    return sum((cost.per_year for cost in costs), Decimal(0))


def guessed_per_year(costs: Sequence[ItemCost]) -> Decimal:
    return sum((cost.per_year for cost in costs if cost.guessed), Decimal(0))


def share(part: Decimal, total: Decimal) -> Decimal | None:
    """``part`` in percent of ``total``, one decimal; None when the total is 0."""
    if total == 0:
        return None
    return (part / total * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def weekly(total_per_year: Decimal, weeks_per_year: int) -> Decimal:
    """The items' sum per year as a cost per week, in cents: what ``Cycle.indirect_cost_per_week`` holds."""
    return _cents(total_per_year / Decimal(weeks_per_year))


# --- in words ------------------------------------------------------------------------------------------


def _plural_n(value: Decimal) -> int:
    # gettext's plural rules take whole numbers; "1,5 errors" reads as plural.
    return int(value) if value == int(value) else 2


def _base(item: IndirectCostItem, hourly_rate: Decimal, currency: str) -> str:
    kind = IndirectKind(item.kind)
    quantity = Decimal(item.quantity or 0)
    value = money(item.unit_value or 0, currency)
    n = _plural_n(quantity)
    if kind == IndirectKind.errors:
        return ngettext(
            "%(count)s error × %(value)s per error",
            "%(count)s errors × %(value)s per error",
            n,
            count=number(quantity),
            value=value,
        )
    if kind == IndirectKind.lost_orders:
        return ngettext(
            "%(count)s lost order × %(value)s contribution margin",
            "%(count)s lost orders × %(value)s contribution margin",
            n,
            count=number(quantity),
            value=value,
        )
    if kind == IndirectKind.penalties:
        return ngettext(
            "%(count)s penalty × %(value)s", "%(count)s penalties × %(value)s", n, count=number(quantity), value=value
        )
    if kind == IndirectKind.waiting:
        people = item.people_affected or 0
        return _(
            "%(hours)s h waiting × %(people)s × %(rate)s",
            hours=number(quantity),
            people=ngettext("%(num)s person", "%(num)s people", people),
            rate=money(hourly_rate, currency),
        )
    return value


def formula(cost: ItemCost, hourly_rate: Decimal, weeks_per_year: int, currency: str) -> str:
    """The item's yearly cost as arithmetic, naming the working weeks for a weekly item."""
    item = cost.item
    base = _base(item, hourly_rate, currency)
    total = money(cost.per_year, currency)
    period = Period(item.period)
    if period == Period.week:
        return _(
            "%(base)s per week × %(weeks)s working weeks = %(cost)s",
            base=base,
            weeks=number(weeks_per_year),
            cost=total,
        )
    if period == Period.month:
        return _("%(base)s per month × 12 months = %(cost)s", base=base, cost=total)
    return _("%(base)s per year = %(cost)s", base=base, cost=total)


def name(item: IndirectCostItem) -> str:
    """The item as people call it: its label, or its kind when it has none."""
    return item.label or str(KIND_LABELS[IndirectKind(item.kind)])


def source_label(item: IndirectCostItem) -> str:
    return str(SOURCE_LABELS[CostSource(item.source)])


def guessed_names(costs: Sequence[ItemCost]) -> list[str]:
    return [name(cost.item) for cost in costs if cost.guessed]
