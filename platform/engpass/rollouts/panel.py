"""What the cycle page shows of a scaled cycle's rollout: the rollout, its measurements, adoption, the
checkpoints and the business case at scale beside the prototype's. Two queries however many measurements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from engpass.cycles.business_case import BusinessCase
from engpass.cycles.models import Cycle
from engpass.rollouts import service
from engpass.rollouts.figures import SUSTAINED_MIN_PERCENT, Row, ScaleCase, scale_case, side_by_side, sustained_text
from engpass.rollouts.labels import REACH_LABELS, REACHED_UNITS, STATE_LABELS
from engpass.rollouts.models import Reach, Rollout, RolloutMeasurement


@dataclass(frozen=True)
class RolloutPanel:
    rollout: Rollout | None  # None: decided "scale" and not opened yet
    measurements: list[RolloutMeasurement]
    scale: ScaleCase | None
    rows: list[Row]
    sustained: str
    reach_label: str
    unit: str
    state_labels: dict
    threshold: Decimal = SUSTAINED_MIN_PERCENT


def panel_for(
    session: Session, cycle: Cycle, case_: BusinessCase, hourly_rate: Decimal, weeks: int, currency: str, today: date
) -> RolloutPanel | None:
    """None for a cycle not decided "scale": it has no rollout to show."""
    if not service.is_scaled(cycle):
        return None
    rollout = service.rollout_of(session, cycle)
    if rollout is None:
        return RolloutPanel(None, [], None, [], "", "", "", STATE_LABELS)
    scale = scale_case(cycle, rollout, case_, hourly_rate, weeks, today)
    reach = Reach(rollout.reach)
    return RolloutPanel(
        rollout=rollout,
        measurements=sorted(rollout.measurements, key=lambda m: (m.measured_on, m.id), reverse=True),
        scale=scale,
        rows=side_by_side(scale, currency),
        sustained=sustained_text(scale),
        reach_label=str(REACH_LABELS[reach]),
        unit=str(REACHED_UNITS[reach]),
        state_labels=STATE_LABELS,
    )
