"""The radar's findings: recomputed with the trends by the workers, read by the dashboard, digest and API.

``recompute`` runs inside ``trends.service.recompute`` (after every change, coalesced, and nightly) with the
cycles and measurements it has loaded already, and adds one query for the rollouts and one for the stored
findings. ``current`` reads the findings with their cycle's title and person's name in one query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from engpass.accounts.models import User
from engpass.cycles.models import Cycle
from engpass.db import utcnow
from engpass.radar.models import Pattern, RadarFinding, RadarRule
from engpass.radar.rules import RULE_ORDER, Situation, evaluate
from engpass.rollouts.models import Rollout


@dataclass(frozen=True)
class Shown:
    """A finding as the pages, the digest and the API show it: plain values, so that a digest built in its
    organization's tenant context can be rendered for each reader outside it."""

    pattern: Pattern
    rule: RadarRule
    cycle_id: int | None
    cycle_title: str | None
    user_name: str | None
    figures: dict[str, Any]
    opened_on: date


def situation(
    session: Session,
    cycles: Sequence[Cycle],
    measurements: Mapping[int, Sequence[Any]],
    hourly_rate: Decimal,
    weeks_per_year: int,
) -> Situation:
    """The rules' input from the cycles and measurements the caller loaded, and the rollouts (one query)."""
    rollouts = session.scalars(select(Rollout).options(joinedload(Rollout.measurements))).unique().all()
    return Situation(cycles, measurements, {r.cycle_id: r for r in rollouts}, Decimal(hourly_rate), weeks_per_year)


def recompute(session: Session, facts: Situation, today: date) -> int:
    """Make the current organization's stored findings those the rules find today; returns how many.

    A finding that still applies keeps its row and the day it opened; one that no longer applies is deleted.
    Idempotent: a second run finds what the first wrote."""
    found = {f.key: f for f in evaluate(facts, today)}
    stored = {row.key: row for row in session.scalars(select(RadarFinding))}
    gone = [row.id for key, row in stored.items() if key not in found]
    if gone:
        session.execute(
            delete(RadarFinding).where(RadarFinding.id.in_(gone)), execution_options={"synchronize_session": False}
        )
    now = utcnow()
    for key, finding in found.items():
        row = stored.get(key)
        if row is None:
            row = RadarFinding(key=key, rule=finding.rule, cycle_id=finding.cycle_id, opened_on=today)
            session.add(row)
        row.pattern = finding.pattern
        row.user_id = finding.user_id
        row.figures = finding.figures
        row.computed_at = now
    session.flush()
    return len(found)


def _utc_day(at: datetime) -> date:
    """SQLite hands back naive datetimes; they are UTC like everything stored here."""
    return (at.astimezone(UTC) if at.tzinfo is not None else at).date()


# The figures that count days up to the day of the recompute that wrote them.
DAY_COUNTS = ("days",)


def _as_of(figures: dict[str, Any], computed_on: date, today: date) -> dict[str, Any]:
    """``figures`` moved on from the day they were computed to ``today``: a recompute runs when a change or a
    threshold asks for one, not every day, and a day count moves on by itself in between."""
    elapsed = (today - computed_on).days
    if elapsed <= 0:
        return dict(figures)
    return {key: value + elapsed if key in DAY_COUNTS else value for key, value in figures.items()}


def moved_on(shown: Shown, since: date, today: date) -> Shown:
    """``shown`` as ``current`` gave it on ``since``, as of ``today`` (the digest's stored week keeps findings)."""
    return replace(shown, figures=_as_of(shown.figures, since, today))


def current(session: Session, today: date | None = None) -> list[Shown]:
    """The current organization's findings as of ``today`` (UTC, like the rules), in the rules' order; one query."""
    today = today or utcnow().date()
    rows = session.execute(
        select(RadarFinding, Cycle.title, User.name)
        .outerjoin(Cycle, Cycle.id == RadarFinding.cycle_id)
        .outerjoin(User, User.id == RadarFinding.user_id)
        .order_by(RadarFinding.id)
    ).all()
    shown = [
        Shown(
            f.pattern, f.rule, f.cycle_id, title, name, _as_of(f.figures, _utc_day(f.computed_at), today), f.opened_on
        )
        for f, title, name in rows
    ]
    return sorted(shown, key=lambda s: (RULE_ORDER[s.rule], s.cycle_id or 0))
