"""What a candidate costs a year, and the backlog's order. Pure functions: the numbers in, the figure out.

cost per year = (hours per week × hourly rate + cost per week) × working weeks per year, with the
organization's hourly rate and working weeks (docs/business-case.md#bottleneck-candidates). A candidate with
neither number is *unknown*: it is ranked after every known one and never counted as 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol, TypeVar

CENT = Decimal("0.01")


class Estimated(Protocol):
    @property
    def hours_per_week(self) -> Decimal | None: ...
    @property
    def cost_per_week(self) -> Decimal | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def id(self) -> int: ...


T = TypeVar("T", bound=Estimated)


@dataclass(frozen=True)
class YearlyCost:
    """The parts are None when the candidate lacks their number; ``total`` is their sum."""

    hours_cost: Decimal | None
    direct_cost: Decimal | None
    total: Decimal
    hourly_rate: Decimal
    weeks_per_year: int


def yearly_cost(candidate: Estimated, hourly_rate: Decimal, weeks_per_year: int) -> YearlyCost | None:
    """The candidate's estimated cost per year; None (unknown) when neither hours nor a cost is known."""
    weeks = Decimal(weeks_per_year)
    rate = Decimal(hourly_rate)
    hours = None
    if candidate.hours_per_week is not None:
        hours = (Decimal(candidate.hours_per_week) * rate * weeks).quantize(CENT, rounding=ROUND_HALF_UP)
    direct = None
    if candidate.cost_per_week is not None:
        direct = (Decimal(candidate.cost_per_week) * weeks).quantize(CENT, rounding=ROUND_HALF_UP)
    if hours is None and direct is None:
        return None
    return YearlyCost(hours, direct, (hours or Decimal(0)) + (direct or Decimal(0)), rate, weeks_per_year)


def moment(at: datetime | None) -> float:
    """A creation time as a number; SQLite gives stored moments back without their (UTC) offset."""
    if at is None:
        return 0.0
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


def rank_key(candidate: Estimated, hourly_rate: Decimal, weeks_per_year: int) -> tuple[int, Decimal, float, int]:
    """Ascending order of the backlog: known before unknown, then the highest cost, then the newest, then the
    highest id (so two candidates of the same second keep one order)."""
    cost = yearly_cost(candidate, hourly_rate, weeks_per_year)
    created = moment(candidate.created_at)
    return (1 if cost is None else 0, -(cost.total if cost is not None else Decimal(0)), -created, -candidate.id)


def ranked(candidates: Iterable[T], hourly_rate: Decimal, weeks_per_year: int) -> list[T]:
    return sorted(candidates, key=lambda c: rank_key(c, hourly_rate, weeks_per_year))


def top(candidates: Sequence[T], hourly_rate: Decimal, weeks_per_year: int, count: int = 3) -> list[T]:
    return ranked(candidates, hourly_rate, weeks_per_year)[:count]
