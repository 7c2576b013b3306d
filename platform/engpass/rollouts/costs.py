"""What scaling costs, in the business case's terms: once, and per year while it runs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engpass.rollouts.models import Rollout

MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class ScalingCost:
    one_off: Decimal | None
    per_year: Decimal | None

    @property
    def first_year(self) -> Decimal | None:
        """One-off plus a year's running cost; unknown only when both are unknown."""
        if self.one_off is None and self.per_year is None:
            return None
        return (self.one_off or Decimal(0)) + (self.per_year or Decimal(0))


def scaling_cost(rollout: Rollout) -> ScalingCost:
    per_month = rollout.running_cost_per_month
    return ScalingCost(
        one_off=rollout.one_off_cost,
        per_year=None if per_month is None else per_month * MONTHS_PER_YEAR,
    )
