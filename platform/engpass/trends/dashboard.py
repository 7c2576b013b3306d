"""What an organization's dashboard shows: precomputed snapshots plus the few open items.

Reads four small queries and never computes history in the request: when the
snapshots are missing or behind, the page says so and the workers are asked for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import task_names
from engpass.cycles.forecast import Accuracy
from engpass.cycles.models import Cycle
from engpass.cycles.rules import prototype_too_long
from engpass.outbox.service import enqueue
from engpass.radar import service as radar
from engpass.reminders import rules as reminders
from engpass.trends.models import TrendSnapshot, TrendState
from engpass.trends.portfolio import forecast_accuracy
from engpass.trends.service import latest_snapshots


@dataclass(frozen=True)
class Hint:
    """A prototype planned or running for longer than the method's four weeks: advice, not a reminder —
    nothing is overdue yet, and no form resolves it."""

    cycle_id: int
    title: str


@dataclass
class Dashboard:
    snapshots: list[TrendSnapshot]
    state: TrendState | None
    open_cycles: list[Cycle]
    attention: list[reminders.Reminder] = field(default_factory=list)
    hints: list[Hint] = field(default_factory=list)
    has_cycles: bool = False
    # The anti-pattern radar's open findings, as the workers' last recompute wrote them.
    warnings: list[radar.Shown] = field(default_factory=list)

    @property
    def latest(self) -> TrendSnapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    @property
    def forecast(self) -> Accuracy | None:
        """The organization's forecast accuracy, from the document its last recompute wrote (no query)."""
        return forecast_accuracy(self.state.portfolio if self.state is not None else None)

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
    # The reminders' one query also gives the open cycles and the latest decision: the page's query
    # count stays fixed, and the dashboard says exactly what the to-do list says.
    situation = reminders.load(session)
    open_cycles = [open_state.cycle for open_state in situation.open]
    attention = reminders.evaluate(situation, today)
    overdue = {r.cycle_id for r in attention if r.rule == reminders.Rule.overdue_prototype}
    hints = [
        Hint(cycle.id, cycle.title)
        for cycle in open_cycles
        if cycle.id not in overdue and prototype_too_long(cycle, today)
    ]
    has_cycles = (
        bool(open_cycles)
        or situation.latest_decided is not None
        or bool(snapshots and sum(snapshots[-1].cycles_per_stage.values()))
    )
    return Dashboard(snapshots, state, open_cycles, attention, hints, has_cycles, radar.current(session))


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
