"""Figures that are probably typing errors, and costs that count the hours twice: asked about, not saved silently.

Nothing here refuses a value: a company may pay 600 € an hour for a specialist. The forms show each doubt
next to its field with a "Yes, these values are right" checkbox; the API answers 422 naming the fields
unless the body says ``confirm_implausible: true``. The thresholds are in the organization's currency.
Figures saved before were asked about then: with ``before`` given, only a change asks again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from engpass.formatting import money, number

HOURLY_RATE_MAX = Decimal(500)
HOURS_PER_WEEK_MAX = Decimal(168)
WEEKLY_COST_MAX = Decimal(1_000_000)
# A cost within a cent or 1 % of hours × rate is the labour cost the hours already carry.
SAME_WITHIN_SHARE = Decimal("0.01")
CENT = Decimal("0.01")
# The indirect cost per week is derived from its items (cycles/indirect_costs.py), never typed.
BASELINE_COSTS = ("direct_cost_per_week",)
MEASUREMENT_COSTS = ("cost_per_week",)


@dataclass(frozen=True)
class Doubt:
    """Why the value of ``field`` needs a second look, in the user's language."""

    field: str
    message: str


def rate_doubts(
    rate: Decimal | None, currency: str, before: Decimal | None = None, field: str = "default_hourly_rate"
) -> list[Doubt]:
    if rate is None or rate <= HOURLY_RATE_MAX or rate == before:
        return []
    return [
        Doubt(
            field,
            _(
                "%(rate)s per hour is far above what an hour of work usually costs (more than %(limit)s).",
                rate=money(rate, currency),
                limit=money(HOURLY_RATE_MAX, currency),
            ),
        )
    ]


def labour_cost(hours: Decimal | None, rate: Decimal) -> Decimal | None:
    return None if hours is None else hours * rate


def counts_the_hours_twice(cost: Decimal | None, hours: Decimal | None, rate: Decimal) -> bool:
    """Whether ``cost`` is what the hours cost at the rate, which the business case already counts."""
    labour = labour_cost(hours, rate)
    if cost is None or labour is None or cost <= 0 or labour <= 0:
        return False
    return abs(cost - labour) <= max(CENT, labour * SAME_WITHIN_SHARE)


def week_doubts(
    values: Mapping[str, Decimal | None], costs: tuple[str, ...], rate: Decimal, currency: str, before: Any = None
) -> list[Doubt]:
    """Doubts about a week's ``hours_per_week`` and its ``costs`` fields (status quo or measurement);
    none when ``before`` (the cycle or measurement as saved) already holds these figures."""
    figures = ("hours_per_week", *costs)
    if before is not None and all(values.get(name) == getattr(before, name) for name in figures):
        return []
    found = []
    hours = values.get("hours_per_week")
    if hours is not None and hours > HOURS_PER_WEEK_MAX:
        found.append(
            Doubt(
                "hours_per_week",
                _(
                    "%(hours)s hours per week is more than a whole week has (%(limit)s hours). "
                    "Right only as the sum of several people's hours.",
                    hours=number(hours),
                    limit=number(HOURS_PER_WEEK_MAX),
                ),
            )
        )
    for name in costs:
        cost = values.get(name)
        if cost is not None and cost > WEEKLY_COST_MAX:
            found.append(
                Doubt(
                    name,
                    _(
                        "%(cost)s per week is more than %(limit)s.",
                        cost=money(cost, currency),
                        limit=money(WEEKLY_COST_MAX, currency),
                    ),
                )
            )
        elif counts_the_hours_twice(cost, hours, rate):
            found.append(
                Doubt(
                    name,
                    _(
                        "This is what the hours cost (%(hours)s h × %(rate)s), and the business case already "
                        "counts them. Enter only money spent besides the hours, or confirm it is extra.",
                        hours=number(hours),
                        rate=money(rate, currency),
                    ),
                )
            )
    return found
