"""A candidate's cost per year in words: the figure and the arithmetic behind it, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _

from engpass.candidates.costs import YearlyCost
from engpass.formatting import money, number


@dataclass(frozen=True)
class CostFigure:
    value: str | None  # None: unknown
    formula: str


def cost_figure(
    hours_per_week: Decimal | None, cost_per_week: Decimal | None, cost: YearlyCost | None, currency: str
) -> CostFigure:
    if cost is None:
        return CostFigure(None, _("Unknown: needs the hours or the cost per week."))
    weeks = number(cost.weeks_per_year)
    total = money(cost.total, currency)
    rate = money(cost.hourly_rate, currency)
    if hours_per_week is not None and cost_per_week is not None:
        formula = _(
            "(%(hours)s h/week × %(rate)s + %(weekly)s/week) × %(weeks)s working weeks = %(cost)s",
            hours=number(hours_per_week),
            rate=rate,
            weekly=money(cost_per_week, currency),
            weeks=weeks,
            cost=total,
        )
    elif hours_per_week is not None:
        formula = _(
            "%(hours)s h/week × %(rate)s × %(weeks)s working weeks = %(cost)s",
            hours=number(hours_per_week),
            rate=rate,
            weeks=weeks,
            cost=total,
        )
    else:
        formula = _(
            "%(weekly)s/week × %(weeks)s working weeks = %(cost)s",
            weekly=money(cost_per_week, currency),
            weeks=weeks,
            cost=total,
        )
    return CostFigure(total, formula)
