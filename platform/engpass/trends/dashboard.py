"""What an organization's dashboard shows: precomputed snapshots plus the few open items.

Reads three small queries and never computes history in the request: when the
snapshots are missing or behind, the page says so and the workers are asked for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engpass import task_names
from engpass.cycles.models import Cycle, Measurement, Stage
from engpass.cycles.rules import prototype_overdue, prototype_too_long
from engpass.outbox.service import enqueue
from engpass.trends.models import TrendSnapshot, TrendState
from engpass.trends.service import latest_snapshots

BASELINE_DUE_DAYS = 7
MEASUREMENT_DUE_DAYS = 14
NEXT_BOTTLENECK_DUE_DAYS = 14


@dataclass(frozen=True)
class Attention:
    kind: str  # overdue_prototype | long_prototype | missing_measurement | missing_baseline | no_next_bottleneck
    cycle_id: int
    title: str
    since: date | None = None


@dataclass
class Dashboard:
    snapshots: list[TrendSnapshot]
    state: TrendState | None
    open_cycles: list[Cycle]
    attention: list[Attention] = field(default_factory=list)
    has_cycles: bool = False

    @property
    def latest(self) -> TrendSnapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    @property
    def pending(self) -> bool:
        """Cycles exist but the workers have not caught up with them yet."""
        if not self.has_cycles:
            return False
        return not self.snapshots or self.state is None or self.state.computed_version < self.state.version


def trend_state(session: Session) -> TrendState | None:
    return session.scalars(select(TrendState)).first()


def cache_key(org_id: int, locale: str, currency: str, state: TrendState | None, today: date, member: bool) -> str:
    """Changes with every cycle change (version), every recompute (computed_version) and every day."""
    version = f"{state.version}.{state.computed_version}" if state is not None else "none"
    return f"dashboard:{org_id}:{locale}:{currency}:{version}:{today.isoformat()}:{int(member)}"


def load(session: Session, today: date, state: TrendState | None, weeks: int = 52) -> Dashboard:
    """``state`` is the organization's trend state, read by the caller (it keys the page cache)."""
    snapshots = latest_snapshots(session, weeks)
    last_measured = (
        select(Measurement.cycle_id, func.max(Measurement.measured_on).label("last_measured"))
        .group_by(Measurement.cycle_id)
        .subquery()
    )
    latest_decided_id = (
        select(Cycle.id).where(Cycle.stage == Stage.decided).order_by(Cycle.decided_at.desc()).limit(1)
    ).scalar_subquery()
    # Open cycles and the latest decision in one statement: the page's query count stays fixed.
    rows = session.execute(
        select(Cycle, last_measured.c.last_measured)
        .outerjoin(last_measured, last_measured.c.cycle_id == Cycle.id)
        .where(or_(Cycle.stage != Stage.decided, Cycle.id == latest_decided_id))
        .order_by(Cycle.created_at)
    ).all()
    open_cycles = [cycle for cycle, _ in rows if cycle.stage != Stage.decided]
    latest_decided = next((cycle for cycle, _ in rows if cycle.stage == Stage.decided), None)
    attention: list[Attention] = []
    for cycle, last in rows:
        if cycle.stage != Stage.decided:
            attention.extend(_attention_for(cycle, last, today))
    if not open_cycles and latest_decided is not None and latest_decided.decided_at is not None:
        decided_on = latest_decided.decided_at.date()
        if (today - decided_on).days > NEXT_BOTTLENECK_DUE_DAYS:
            attention.append(Attention("no_next_bottleneck", latest_decided.id, latest_decided.title, decided_on))
    has_cycles = (
        bool(open_cycles)
        or latest_decided is not None
        or bool(snapshots and sum(snapshots[-1].cycles_per_stage.values()))
    )
    return Dashboard(snapshots, state, open_cycles, attention, has_cycles)


def _attention_for(cycle: Cycle, last_measured: date | None, today: date) -> list[Attention]:
    items = []
    if prototype_overdue(cycle, today):
        items.append(Attention("overdue_prototype", cycle.id, cycle.title, cycle.prototype_target))
    elif prototype_too_long(cycle, today):
        items.append(Attention("long_prototype", cycle.id, cycle.title, cycle.prototype_start))
    if cycle.stage in (Stage.prototype, Stage.result):
        since = last_measured or cycle.prototype_start
        if since is not None and (today - since).days > MEASUREMENT_DUE_DAYS:
            items.append(Attention("missing_measurement", cycle.id, cycle.title, since))
    if cycle.stage in (Stage.bottleneck, Stage.baseline) and cycle.bottleneck_at is not None:
        named = cycle.bottleneck_at.date()
        if cycle.kpi_baseline is None and (today - named).days > BASELINE_DUE_DAYS:
            items.append(Attention("missing_baseline", cycle.id, cycle.title, named))
    return items


def request_recompute(session: Session) -> None:
    """Ask the workers for this organization's snapshots (the page itself never computes them)."""
    enqueue(session, task_names.RECOMPUTE_TRENDS)


def ensure_requested(session: Session, data: Dashboard) -> bool:
    """Cycles without any trend state (imported data, an old database): ask the workers once."""
    if not data.has_cycles or data.state is not None:
        return False
    session.add(TrendState(version=1, computed_version=0))
    request_recompute(session)
    return True


def level_trend(snapshots: list[TrendSnapshot], weeks: int = 4) -> int:
    """-1, 0 or +1: the level now against ``weeks`` weeks ago."""
    if len(snapshots) <= weeks:
        return 0
    before, now = snapshots[-1 - weeks].level, snapshots[-1].level
    return (now > before) - (now < before)
