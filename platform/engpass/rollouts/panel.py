"""What the cycle page shows of a scaled cycle's rollout: the rollout, its latest measurements, adoption, the
checkpoints and the business case at scale beside the prototype's. Four queries, each loading a bounded number
of rows, however many measurements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from engpass.cycles.business_case import BusinessCase
from engpass.cycles.models import Cycle
from engpass.rollouts import measurement_reads, service
from engpass.rollouts.figures import SUSTAINED_MIN_PERCENT, Row, ScaleCase, scale_case, side_by_side, sustained_text
from engpass.rollouts.labels import REACH_LABELS, REACHED_UNITS, STATE_LABELS
from engpass.rollouts.models import Reach, Rollout, RolloutMeasurement


@dataclass(frozen=True)
class RolloutPanel:
    rollout: Rollout | None  # None: decided "scale" and not opened yet
    measurements: list[RolloutMeasurement]  # the latest, newest first
    scale: ScaleCase | None
    rows: list[Row]
    sustained: str
    reach_label: str
    unit: str
    state_labels: dict
    measurement_total: int = 0
    threshold: Decimal = SUSTAINED_MIN_PERCENT


def panel_for(
    session: Session, cycle: Cycle, case_: BusinessCase, hourly_rate: Decimal, weeks: int, currency: str, today: date
) -> RolloutPanel | None:
    """None for a cycle not decided "scale": it has no rollout to show."""
    if not service.is_scaled(cycle):
        return None
    rollout = measurement_reads.rollout_alone(session, cycle)
    if rollout is None:
        return RolloutPanel(None, [], None, [], "", "", "", STATE_LABELS)
    rows = measurement_reads.figure_rows(session, rollout)
    scale = scale_case(cycle, rollout, case_, hourly_rate, weeks, today, rows)
    reach = Reach(rollout.reach)
    return RolloutPanel(
        rollout=rollout,
        measurements=measurement_reads.latest(session, rollout),
        measurement_total=measurement_reads.count(session, rollout),
        scale=scale,
        rows=side_by_side(scale, currency),
        sustained=sustained_text(scale),
        reach_label=str(REACH_LABELS[reach]),
        unit=str(REACHED_UNITS[reach]),
        state_labels=STATE_LABELS,
    )
