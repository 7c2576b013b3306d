from datetime import date
from decimal import Decimal

import pytest

from engpass.rollouts.costs import scaling_cost
from engpass.rollouts.models import Reach, Rollout


def _rollout(one_off: str | None, per_month: str | None) -> Rollout:
    return Rollout(
        reach=Reach.people,
        target_count=40,
        started_on=date(2026, 12, 1),
        one_off_cost=None if one_off is None else Decimal(one_off),
        running_cost_per_month=None if per_month is None else Decimal(per_month),
    )


@pytest.mark.parametrize(
    ("one_off", "per_month", "per_year", "first_year"),
    [
        ("2500.00", "120.00", Decimal("1440.00"), Decimal("3940.00")),
        (None, "120.00", Decimal("1440.00"), Decimal("1440.00")),
        ("2500.00", None, None, Decimal("2500.00")),
        (None, None, None, None),
        ("0.00", "0.00", Decimal("0.00"), Decimal("0.00")),
    ],
)
def test_the_cost_of_scaling_per_year_and_in_the_first_year(one_off, per_month, per_year, first_year):
    cost = scaling_cost(_rollout(one_off, per_month))
    assert cost.per_year == per_year
    assert cost.first_year == first_year
