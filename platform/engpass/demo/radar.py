"""Demo rows that let the anti-pattern radar's three patterns show after ``engpass demo`` (docs/radar.md).

The chains already leave scale decisions without a rollout (the isolated pilot) and cycles without a sponsor
(the lone expert); tool first needs a rollout whose adoption stays low. One company gets it, once.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.cycles.models import Cycle, Decision, Stage
from engpass.rollouts.models import Reach, Rollout, RolloutMeasurement

# The company whose scaled order check reached too few of its clerks: (company, cycle title).
LOW_ADOPTION = ("Schneider Logistik KG", "Fehlerquote in der Auftragsabwicklung 7 %")
# Twelve clerks should check orders with it; a month and more after the start four do.
TARGET_PEOPLE = 12
REACHED = ((14, 3), (35, 4))  # days after the start, clerks reached


def add_low_adoption(session: Session, org_name: str, today: date) -> Rollout | None:
    """The rollout of ``LOW_ADOPTION``'s cycle with its adoption counted, in the current organization; nothing
    for another company or when the cycle has its rollout already."""
    company, title = LOW_ADOPTION
    if org_name != company:
        return None
    cycle = session.scalars(
        select(Cycle).where(Cycle.title == title, Cycle.stage == Stage.decided, Cycle.decision == Decision.scale)
    ).first()
    if cycle is None or cycle.decided_at is None:
        return None
    if session.scalar(select(Rollout.id).where(Rollout.cycle_id == cycle.id)) is not None:
        return None
    decided = cycle.decided_at.astimezone(UTC).date() if cycle.decided_at.tzinfo else cycle.decided_at.date()
    # Started soon after the decision, and at least as long ago as the last count needs.
    start = min(decided + timedelta(days=10), today - timedelta(days=REACHED[-1][0] + 5))
    rollout = Rollout(
        cycle_id=cycle.id,
        reach=Reach.people,
        target_description="Sachbearbeitung Auftragsannahme an allen drei Standorten",
        target_count=TARGET_PEOPLE,
        one_off_cost=Decimal(2000),
        running_cost_per_month=Decimal(450),
        started_on=start,
        target_on=start + timedelta(days=60),
    )
    session.add(rollout)
    session.flush()
    for days, reached in REACHED:
        session.add(
            RolloutMeasurement(
                rollout_id=rollout.id,
                measured_on=start + timedelta(days=days),
                reached=reached,
                note="Aktive Nutzer laut Protokoll des Auftragsformulars",
            )
        )
    session.flush()
    return rollout
