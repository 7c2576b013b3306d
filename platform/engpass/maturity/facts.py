"""Facts about an organization's cycles as of a given day, for maturity and trend snapshots.

Two queries per organization (cycles, measurements); every later day of a backfill is
computed from the same rows, so a year of weekly snapshots costs no more queries.

A backfill asks for a hundred or more days of the same history, so each cycle's timeline
(the day it entered each stage, its measurements in order) is worked out once per
``History``, and a cycle's facts are built once per distinct state rather than once per
day: from one week to the next most cycles have not changed at all.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.cycles.business_case import compute as business_case
from engpass.cycles.models import STAGE_ORDER, Cycle, Measurement, Stage
from engpass.maturity.model import CycleFacts


@dataclass(frozen=True)
class History:
    """An organization's cycles and measurements, loaded once."""

    cycles: list[Cycle]
    measurements: dict[int, list[MeasuredPoint]]
    hourly_rate: Decimal
    weeks_per_year: int

    @cached_property
    def timelines(self) -> list[_Timeline]:
        """Worked out on first use; a History is a snapshot of rows that are not changed afterwards."""
        return [
            _Timeline(cycle, self.measurements.get(cycle.id, []), self.hourly_rate, self.weeks_per_year)
            for cycle in self.cycles
        ]


class MeasuredPoint(Protocol):
    """What the facts read of a measurement: a ``Measurement`` or a row of these columns."""

    id: int
    cycle_id: int
    measured_on: date
    kpi_value: Decimal
    hours_per_week: Decimal | None
    cost_per_week: Decimal | None


# Rows instead of ORM objects: an organization has hundreds of measurements, and building an
# ORM object for each cost three times as much as the query. The business case reads only these.
MEASURED_COLUMNS = (
    Measurement.id,
    Measurement.cycle_id,
    Measurement.measured_on,
    Measurement.kpi_value,
    Measurement.hours_per_week,
    Measurement.cost_per_week,
)


def load_history(session: Session, hourly_rate: Decimal, weeks_per_year: int) -> History:
    cycles = list(session.scalars(select(Cycle).order_by(Cycle.id)))
    measurements: dict[int, list[MeasuredPoint]] = defaultdict(list)
    for m in session.execute(select(*MEASURED_COLUMNS).order_by(Measurement.measured_on, Measurement.id)):
        measurements[m.cycle_id].append(m)
    return History(cycles, dict(measurements), Decimal(hourly_rate), weeks_per_year)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def _on(value: datetime | None, limit: datetime) -> date | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.date() if aware <= limit else None


def stage_as_of(cycle: Cycle, limit: datetime) -> Stage | None:
    """The furthest stage the cycle had entered by ``limit``; None if it did not exist yet."""
    reached = None
    for stage in STAGE_ORDER:
        if _on(getattr(cycle, f"{stage.value}_at"), limit) is not None:
            reached = stage
    return reached


def _utc_day(value: datetime) -> date:
    """The first day whose ``end_of`` is at or after ``value``: ``_on(value, end_of(day))`` is set from it on."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


class _Timeline:
    """One cycle's history, prepared so that its facts on any day take a few comparisons."""

    def __init__(
        self, cycle: Cycle, measurements: list[MeasuredPoint], hourly_rate: Decimal, weeks_per_year: int
    ) -> None:
        self.cycle = cycle
        self.hourly_rate = hourly_rate
        self.weeks_per_year = weeks_per_year
        # (first day it counts, stage index) for every stage the cycle has a timestamp for.
        self.entered = [
            (_utc_day(at), index)
            for index, stage in enumerate(STAGE_ORDER)
            if (at := getattr(cycle, f"{stage.value}_at")) is not None
        ]
        self.created = self._on_from(cycle.bottleneck_at)
        self.result = self._on_from(cycle.result_at)
        self.decided = self._on_from(cycle.decided_at)
        # Sorted by the key business_case.latest() takes the maximum of, so the last of the
        # measurements up to a day is the one it would pick; a stable sort keeps its choice on ties.
        ordered = sorted(measurements, key=lambda m: (m.measured_on, m.id or 0))
        self.measured_days = [m.measured_on for m in ordered]
        self.latest: list[MeasuredPoint | None] = [None]
        for m in ordered:
            best = self.latest[-1]
            keep = best is not None and (best.measured_on, best.id or 0) >= (m.measured_on, m.id or 0)
            self.latest.append(best if keep else m)
        self.has_why = bool((cycle.why or "").strip())
        self.quantified = cycle.hours_per_week is not None and cycle.kpi_baseline is not None and bool(cycle.kpi_name)
        self.prototype_start = cycle.prototype_start
        # Every day on which one of the facts can change; between two of them the facts stay the same.
        # Without a bottleneck date (or before it) "created on" is the day itself: each day is a state.
        changes = {first_day for first_day, _ in self.entered} | set(self.measured_days)
        for on in (self.created, self.result, self.decided):
            if on is not None:
                changes.add(on[0])
        if self.prototype_start is not None:
            changes.add(self.prototype_start)
        self.change_days = sorted(changes) if self.created is not None else None
        self.by_state: dict[int, CycleFacts | None] = {}
        self.facts: dict[tuple[object, ...], CycleFacts] = {}

    @staticmethod
    def _on_from(value: datetime | None) -> tuple[date, date] | None:
        """When ``_on`` starts answering, and what it answers then (the date in the value's own zone)."""
        if value is None:
            return None
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return _utc_day(value), aware.date()

    @staticmethod
    def _on(on: tuple[date, date] | None, day: date) -> date | None:
        return on[1] if on is not None and on[0] <= day else None

    def facts_on(self, day: date) -> CycleFacts | None:
        """The same facts the per-day computation gives, built once per distinct state of the cycle."""
        if self.change_days is None or day < self.created[0]:  # type: ignore[index]
            return self._facts_on(day)
        state = bisect_right(self.change_days, day)
        if state not in self.by_state:
            self.by_state[state] = self._facts_on(day)
        return self.by_state[state]

    def _facts_on(self, day: date) -> CycleFacts | None:
        index = -1
        for first_day, stage_index in self.entered:
            if first_day <= day and stage_index > index:
                index = stage_index
        if index < 0:
            return None
        prototype_start = (
            self.prototype_start
            if index >= _PROTOTYPE_INDEX and self.prototype_start is not None and self.prototype_start <= day
            else None
        )
        key = (
            index,
            self._on(self.created, day) or day,
            prototype_start,
            self._on(self.result, day),
            self._on(self.decided, day),
            bisect_right(self.measured_days, day),
        )
        facts = self.facts.get(key)
        if facts is None:
            facts = self.facts[key] = self._build(key)
        return facts

    def _build(self, key: tuple[Any, ...]) -> CycleFacts:
        index, created_on, prototype_start, result_on, decided_on, measured = key
        cycle = self.cycle
        stage = STAGE_ORDER[index]
        current = self.latest[measured]
        # business_case.compute reads only the latest of the measurements it is given, and of it
        # only the attributes a MeasuredPoint has.
        case = (
            business_case(cycle, [current], self.hourly_rate, self.weeks_per_year)  # type: ignore[list-item]
            if current is not None
            else None
        )
        quantified = index >= _BASELINE_INDEX and self.quantified
        return CycleFacts(
            id=cycle.id,
            stage=stage,
            created_on=created_on,
            has_why=self.has_why,
            focus_warning=cycle.focus_warning,
            baseline_quantified=quantified,
            has_target=quantified and cycle.kpi_target is not None,
            prototype_start=prototype_start,
            result_on=result_on,
            decided_on=decided_on,
            decision=cycle.decision if stage == Stage.decided else None,
            measured_savings=case is not None and case.hours_saved_per_week is not None,
            euros_per_year=case.euros_per_year if case is not None else None,
            hours_saved_per_week=case.hours_saved_per_week if case is not None else None,
            previous_cycle_id=cycle.previous_cycle_id,
        )


_BASELINE_INDEX = STAGE_ORDER.index(Stage.baseline)
_PROTOTYPE_INDEX = STAGE_ORDER.index(Stage.prototype)


def facts_as_of(history: History, day: date) -> list[CycleFacts]:
    return [facts for timeline in history.timelines if (facts := timeline.facts_on(day)) is not None]
