"""The re-measurements at 30, 60 and 90 days after a rollout's start: when each is due, which measurement
meets it, and when a missing one reminds. Plain functions over the rows, shared by the cycle page, the
reminders, the business case and the API. See docs/rollouts.md.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, or_

from engpass.rollouts.models import RolloutMeasurement

# Days after the start at which the effect is measured again.
CHECKPOINT_DAYS: tuple[int, ...] = (30, 60, 90)
# A measurement with an effect figure this many days before or after a checkpoint's day meets it. The
# windows of 30, 60 and 90 days never overlap, so one measurement meets at most one checkpoint.
WINDOW_DAYS = 7
# The checkpoint whose measurement says whether the effect held.
SUSTAINED_CHECKPOINT = 90


class State(enum.StrEnum):
    upcoming = "upcoming"  # its window has not opened
    open = "open"  # inside the window before its day: a measurement now meets it
    due = "due"  # from its day to the window's end, not met: reminded
    met = "met"
    missed = "missed"  # the window closed without an effect measured


def has_effect(measurement: RolloutMeasurement) -> bool:
    """Adoption alone does not re-measure the effect: one of the cycle's own figures must be there."""
    return any(
        value is not None for value in (measurement.kpi_value, measurement.hours_per_week, measurement.cost_per_week)
    )


@dataclass(frozen=True)
class Checkpoint:
    days: int
    on: date
    state: State
    # The measurement that meets it: the one closest to its day (the later one of two as close).
    measurement: RolloutMeasurement | None

    @property
    def window_start(self) -> date:
        return self.on - timedelta(days=WINDOW_DAYS)

    @property
    def window_end(self) -> date:
        return self.on + timedelta(days=WINDOW_DAYS)


def _closest(on: date, candidates: list[RolloutMeasurement]) -> RolloutMeasurement | None:
    return min(candidates, key=lambda m: (abs((m.measured_on - on).days), -m.measured_on.toordinal()), default=None)


def checkpoint(started_on: date, days: int, measurements: Iterable[RolloutMeasurement], today: date) -> Checkpoint:
    on = started_on + timedelta(days=days)
    start, end = on - timedelta(days=WINDOW_DAYS), on + timedelta(days=WINDOW_DAYS)
    meeting = [m for m in measurements if has_effect(m) and start <= m.measured_on <= end]
    found = _closest(on, meeting)
    if found is not None:
        state = State.met
    elif today < start:
        state = State.upcoming
    elif today < on:
        state = State.open
    elif today <= end:
        state = State.due
    else:
        state = State.missed
    return Checkpoint(days, on, state, found)


def checkpoints(started_on: date, measurements: Iterable[RolloutMeasurement], today: date) -> list[Checkpoint]:
    rows = list(measurements)
    return [checkpoint(started_on, days, rows, today) for days in CHECKPOINT_DAYS]


def due(started_on: date, measurements: Iterable[RolloutMeasurement], today: date) -> Checkpoint | None:
    """The checkpoint that reminds today: from its day to its window's end, while no measurement meets it."""
    return next((c for c in checkpoints(started_on, measurements, today) if c.state == State.due), None)


def reminding(started_on: date, last_effect: date | None, today: date) -> int | None:
    """``due`` from the latest day an effect was measured alone, which the reminders read in their one query.

    While a checkpoint is due, today is at most its window's end and no measurement is dated after today, so
    the latest effect meets it exactly when it is on or after the window's start.
    """
    for days in CHECKPOINT_DAYS:
        on = started_on + timedelta(days=days)
        if on <= today <= on + timedelta(days=WINDOW_DAYS):
            met = last_effect is not None and last_effect >= on - timedelta(days=WINDOW_DAYS)
            return None if met else days
    return None


def has_effect_clause() -> ColumnElement[bool]:
    """``has_effect`` in SQL, for the reminders' one query."""
    return or_(
        RolloutMeasurement.kpi_value.is_not(None),
        RolloutMeasurement.hours_per_week.is_not(None),
        RolloutMeasurement.cost_per_week.is_not(None),
    )
