"""What a consultancy's portfolio shows of one client, precomputed with its trend snapshots.

``summary()`` runs inside the client's recompute (the workers) and is stored as JSON on its
``TrendState``; the portfolio page reads every client's document in one query and finishes the few
figures that move with the calendar (``Entry``): which reminders are open today, and the savings
accrued since the document was written. See docs/consultants.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.cycles.forecast import Accuracy, organization_accuracy
from engpass.cycles.models import Cycle
from engpass.maturity.facts import History
from engpass.reminders import rules as reminders
from engpass.trends.models import TrendSnapshot, TrendState

TREND_WEEKS = 4
# Reminders are evaluated as of a day far ahead: every rule that will open if nothing changes, each
# with the day it opens. Any change to the cycles recomputes the summary.
FAR_AHEAD = timedelta(days=3650)
SCHEMA = 1


def _day(value: datetime | date | None) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def _last_activity(history: History, state: TrendState | None) -> date | None:
    """The latest day a cycle changed stage or was measured, or a change went through the services."""
    days: list[date] = []
    for cycle in history.cycles:
        for at in (cycle.bottleneck_at, cycle.baseline_at, cycle.solution_at, cycle.prototype_at, cycle.result_at):
            if (day := _day(at)) is not None:
                days.append(day)
        if (day := _day(cycle.decided_at)) is not None:
            days.append(day)
    days.extend(point.measured_on for points in history.measurements.values() for point in points)
    # A state made by a recompute (version 0) has no change behind its changed_at.
    if state is not None and state.version > 0 and state.changed_at is not None:
        days.append(_day(state.changed_at))  # type: ignore[arg-type]
    return max(days) if days else None


def _current_cycle(open_cycles: list[Cycle]) -> Cycle | None:
    """The open cycle named last: the one the client works on now."""
    return max(open_cycles, key=lambda c: (_utc(c.bottleneck_at), c.id)) if open_cycles else None


def _utc(at: datetime) -> datetime:
    """Comparable whether the database gave it back with a zone (PostgreSQL) or without (SQLite: UTC)."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo is not None else at


def _accrued(rows: list[tuple[date, Decimal]], start: date, end: date) -> Decimal:
    """Savings from ``start`` to ``end`` (both included) at each week's yearly rate, day by day."""
    total = Decimal(0)
    for week, per_year in rows:
        first, last = max(week, start), min(week + timedelta(days=6), end)
        if last >= first:
            total += per_year * ((last - first).days + 1) / 365
    return total


def summary(
    session: Session, history: History, today: date, state: TrendState | None, warnings: int = 0
) -> dict[str, Any]:
    """The current organization's portfolio document, as of ``today``; two queries. ``warnings``: the
    radar's open findings, counted by the same recompute."""
    from engpass.trends.service import week_start

    current = week_start(today)
    before = current - timedelta(weeks=TREND_WEEKS)
    year_start = date(today.year, 1, 1)
    rows = session.execute(
        select(TrendSnapshot.week_start, TrendSnapshot.level, TrendSnapshot.euros_per_year)
        .where(TrendSnapshot.week_start >= min(before, week_start(year_start)), TrendSnapshot.week_start <= current)
        .order_by(TrendSnapshot.week_start)
    ).all()
    levels = {week: level for week, level, _ in rows}
    latest = rows[-1] if rows else None
    situation = reminders.load(session)
    open_cycles = [s.cycle for s in situation.open]
    due = reminders.evaluate(situation, today + FAR_AHEAD)
    cycle = _current_cycle(open_cycles)
    last = _last_activity(history, state)
    forecast = organization_accuracy(history.cycles, history.measurements, history.hourly_rate, history.weeks_per_year)
    return {
        "v": SCHEMA,
        "as_of": today.isoformat(),
        "level": latest[1] if latest else None,
        "level_before": levels.get(before),
        "cycle": {"id": cycle.id, "title": cycle.title, "stage": cycle.stage.value} if cycle else None,
        "open_cycles": len(open_cycles),
        "reminders": [[r.rule.value, r.since.isoformat()] for r in due],
        "euros_per_year": str(latest[2]) if latest else "0",
        "euros_this_year": str(round(_accrued([(w, e) for w, _, e in rows], year_start, today), 2)),
        "last_activity": last.isoformat() if last else None,
        "forecast_accuracy": str(forecast.percent) if forecast.percent is not None else None,
        "forecast_cycles": forecast.cycles,
        "warnings": warnings,
    }


def forecast_accuracy(doc: dict[str, Any] | None) -> Accuracy | None:
    """The organization's forecast accuracy as its last recompute wrote it; None before one wrote it."""
    if not doc or doc.get("v") != SCHEMA or "forecast_cycles" not in doc:
        return None
    percent = doc.get("forecast_accuracy")
    return Accuracy(Decimal(percent) if percent is not None else None, doc["forecast_cycles"])


@dataclass(frozen=True)
class Entry:
    """One client's row of the portfolio, as of the reader's day."""

    org_id: int
    name: str
    slug: str
    currency: str
    level_access: str
    level: int | None
    trend: int
    cycle_id: int | None
    cycle_title: str | None
    stage: str | None
    open_cycles: int
    overdue: int
    overdue_prototypes: int
    euros_this_year: Decimal
    last_activity: date | None
    pending: bool
    forecast_accuracy: Decimal | None = None
    forecast_cycles: int = 0
    # The radar's open findings; None for a document written before the radar counted them.
    warnings: int | None = None

    @classmethod
    def build(
        cls,
        org_id: int,
        name: str,
        slug: str,
        currency: str,
        access: str,
        doc: dict[str, Any] | None,
        today: date,
        *,
        has_state: bool = True,
    ) -> Entry:
        """``has_state``: the client has a trend state; without one it has no cycles yet (nothing pending)."""
        doc = doc if doc and doc.get("v") == SCHEMA else {}
        opened = [rule for rule, since in doc.get("reminders", []) if date.fromisoformat(since) <= today]
        as_of = date.fromisoformat(doc["as_of"]) if doc.get("as_of") else None
        euros = Decimal(doc.get("euros_this_year", "0"))
        if as_of is not None and as_of.year != today.year:
            # Written last year: this year's savings start at the rate of then, from the first of January.
            as_of, euros = date(today.year, 1, 1) - timedelta(days=1), Decimal(0)
        if as_of is not None and today > as_of:
            euros += Decimal(doc.get("euros_per_year", "0")) * (today - as_of).days / 365
        level, before = doc.get("level"), doc.get("level_before")
        trend = 0 if level is None or before is None else (level > before) - (level < before)
        cycle = doc.get("cycle") or {}
        last = doc.get("last_activity")
        accuracy = forecast_accuracy(doc)
        return cls(
            org_id=org_id,
            name=name,
            slug=slug,
            currency=currency,
            level_access=access,
            level=level,
            trend=trend,
            cycle_id=cycle.get("id"),
            cycle_title=cycle.get("title"),
            stage=cycle.get("stage"),
            open_cycles=doc.get("open_cycles", 0),
            overdue=len(opened),
            overdue_prototypes=sum(1 for rule in opened if rule == reminders.Rule.overdue_prototype.value),
            euros_this_year=euros,
            last_activity=date.fromisoformat(last) if last else None,
            # Cycles exist but the workers have not written the document yet (at the latest: tonight).
            pending=has_state and not doc,
            forecast_accuracy=accuracy.percent if accuracy is not None else None,
            forecast_cycles=accuracy.cycles if accuracy is not None else 0,
            warnings=doc.get("warnings"),
        )
