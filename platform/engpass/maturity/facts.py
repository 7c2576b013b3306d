"""Facts about an organization's cycles as of a given day, for maturity and trend snapshots.

Two queries per organization (cycles, measurements); every later day of a backfill is
computed from the same rows, so a year of weekly snapshots costs no more queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.cycles.business_case import compute as business_case
from engpass.cycles.models import STAGE_ORDER, Cycle, Measurement, Stage
from engpass.maturity.model import CycleFacts


@dataclass(frozen=True)
class History:
    """An organization's cycles and measurements, loaded once."""

    cycles: list[Cycle]
    measurements: dict[int, list[Measurement]]
    hourly_rate: Decimal


def load_history(session: Session, hourly_rate: Decimal) -> History:
    cycles = list(session.scalars(select(Cycle).order_by(Cycle.id)))
    measurements: dict[int, list[Measurement]] = defaultdict(list)
    for m in session.scalars(select(Measurement).order_by(Measurement.measured_on, Measurement.id)):
        measurements[m.cycle_id].append(m)
    return History(cycles, dict(measurements), Decimal(hourly_rate))


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


def facts_as_of(history: History, day: date) -> list[CycleFacts]:
    limit = end_of(day)
    facts = []
    for cycle in history.cycles:
        stage = stage_as_of(cycle, limit)
        if stage is None:
            continue
        index = STAGE_ORDER.index(stage)
        measured = [m for m in history.measurements.get(cycle.id, []) if m.measured_on <= day]
        case = business_case(cycle, measured, history.hourly_rate) if measured else None
        quantified = (
            index >= STAGE_ORDER.index(Stage.baseline)
            and cycle.hours_per_week is not None
            and cycle.kpi_baseline is not None
            and bool(cycle.kpi_name)
        )
        facts.append(
            CycleFacts(
                id=cycle.id,
                stage=stage,
                created_on=_on(cycle.bottleneck_at, limit) or day,
                has_why=bool((cycle.why or "").strip()),
                focus_warning=cycle.focus_warning,
                baseline_quantified=quantified,
                has_target=quantified and cycle.kpi_target is not None,
                prototype_start=(
                    cycle.prototype_start
                    if index >= STAGE_ORDER.index(Stage.prototype)
                    and cycle.prototype_start is not None
                    and cycle.prototype_start <= day
                    else None
                ),
                result_on=_on(cycle.result_at, limit),
                decided_on=_on(cycle.decided_at, limit),
                decision=cycle.decision if stage == Stage.decided else None,
                measured_savings=case is not None and case.hours_saved_per_week is not None,
                euros_per_year=case.euros_per_year if case is not None else None,
                hours_saved_per_week=case.hours_saved_per_week if case is not None else None,
                previous_cycle_id=cycle.previous_cycle_id,
            )
        )
    return facts
