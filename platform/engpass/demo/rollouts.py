"""Demo rollouts of scaled cycles: one whose effect held at 90 days, and one whose adoption stayed under half
the target a month after its start (what the anti-pattern radar calls "tool first")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from engpass.cycles.business_case import latest
from engpass.cycles.models import Cycle
from engpass.rollouts.models import Reach, Rollout, RolloutMeasurement


@dataclass(frozen=True)
class DemoRollout:
    cycle_title: str
    reach: Reach
    description: str
    target: int
    one_off: int
    per_month: int
    days_ago: int  # the start
    # Days after the start, how many were reached, and whether the effect was measured again then.
    measured: tuple[tuple[int, int, bool], ...]


ROLLOUTS = {
    "Müller Metallbau GmbH": DemoRollout(
        "Angebote dauern 9 Tage",
        Reach.people,
        "Vertrieb und Kalkulation an beiden Standorten",
        12,
        2400,
        60,
        110,
        ((7, 4, False), (30, 8, True), (60, 11, True), (90, 12, True)),
    ),
    "Krause Outdoor Online-Shop": DemoRollout(
        "Support antwortet erst nach 30 Stunden",
        Reach.people,
        "Alle Servicekräfte im Kundensupport",
        40,
        4800,
        400,
        45,
        ((10, 12, False), (31, 15, True)),
    ),
}


def add_rollout(session: Session, org_name: str, built: list[Cycle], today: date) -> None:
    """The organization's demo rollout, if it has one, with the prototype's latest effect held at scale."""
    spec = ROLLOUTS.get(org_name)
    cycle = next((c for c in built if spec is not None and c.title == spec.cycle_title), None)
    if spec is None or cycle is None:
        return
    start = today - timedelta(days=spec.days_ago)
    rollout = Rollout(
        cycle_id=cycle.id,
        reach=spec.reach,
        target_description=spec.description,
        target_count=spec.target,
        one_off_cost=Decimal(spec.one_off),
        running_cost_per_month=Decimal(spec.per_month),
        started_on=start,
        target_on=start + timedelta(days=120),
        created_by_id=cycle.owner_id,
        created_at=datetime.combine(start, time(9), tzinfo=UTC),
    )
    session.add(rollout)
    session.flush()
    proven = latest(list(cycle.measurements))
    for days, reached, effect in spec.measured:
        day = start + timedelta(days=days)
        session.add(
            RolloutMeasurement(
                rollout_id=rollout.id,
                measured_on=day,
                reached=reached,
                kpi_value=proven.kpi_value if effect and proven is not None else None,
                hours_per_week=proven.hours_per_week if effect and proven is not None else None,
                note="",
                created_by_id=cycle.owner_id,
                created_at=datetime.combine(day, time(9), tzinfo=UTC),
            )
        )
    session.flush()
