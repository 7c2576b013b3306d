"""What one organization's weekly digest says: last week's changes, the savings, the maturity
level and its trend, the weeks behind it for a small chart, and the radar's warning signs.

Plain functions over a session in the organization's tenant context, so the worker that
sends digests and the tests call the same code. It reads the precomputed trend snapshots,
never the whole history: a digest costs a fixed handful of queries however old the
organization is, and one read of a week (``load``) serves readers in every time zone
(``OrgWeek.in_zone``). The trends recompute stores the week before its own as a document
(``week_document``), which the digests take in one query while it is current (``current_weeks``).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.candidates.costs import yearly_cost
from engpass.candidates.service import open_ranked
from engpass.cycles.models import Cycle, Decision, Measurement, Stage, StageChange
from engpass.db import utcnow
from engpass.organizations.models import Organization
from engpass.radar import service as radar
from engpass.radar.models import Pattern, RadarRule
from engpass.trends.models import TrendSnapshot, TrendState
from engpass.trends.service import latest_snapshots, week_start

CHART_WEEKS = 12
# Enough to show what happened without turning the e-mail into a report; the rest is a click away.
MAX_CHANGES = 12
# Once a quarter the digest asks "Was bremst Sie am meisten?" and shows the backlog's top three.
QUARTER_MONTHS = (1, 4, 7, 10)
BACKLOG_LINES = 3
# The stored week's shape (``OrgWeek.as_document``): a document of another shape is not read but replaced.
DOCUMENT_SCHEMA = 1


class ChangeKind(enum.StrEnum):
    named = "named"  # a new bottleneck
    moved = "moved"  # forwards to a later stage
    moved_back = "moved_back"
    measured = "measured"
    decided = "decided"


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    cycle_id: int
    cycle_title: str
    at: datetime
    stage: Stage | None = None
    decision: Decision | None = None
    measured_on: date | None = None

    def as_json(self) -> list[Any]:
        return [
            self.kind.value,
            self.cycle_id,
            self.cycle_title,
            self.at.isoformat(),
            self.stage.value if self.stage is not None else None,
            self.decision.value if self.decision is not None else None,
            self.measured_on.isoformat() if self.measured_on is not None else None,
        ]

    @classmethod
    def from_json(cls, row: list[Any]) -> Change:
        kind, cycle_id, title, at, stage, decision, measured_on = row
        return cls(
            kind=ChangeKind(kind),
            cycle_id=cycle_id,
            cycle_title=title,
            at=datetime.fromisoformat(at),
            stage=Stage(stage) if stage is not None else None,
            decision=Decision(decision) if decision is not None else None,
            measured_on=date.fromisoformat(measured_on) if measured_on is not None else None,
        )


@dataclass(frozen=True)
class Standing:
    """The figures of one weekly snapshot the digest shows; plain values, so a digest built once in its
    organization's tenant context can be rendered for every member outside it."""

    week_start: date
    level: int
    hours_saved_per_week: Decimal
    euros_per_year: Decimal
    cycles_per_stage: dict[str, int]

    @classmethod
    def of(cls, snapshot: TrendSnapshot) -> Standing:
        return cls(
            snapshot.week_start,
            snapshot.level,
            snapshot.hours_saved_per_week,
            snapshot.euros_per_year,
            dict(snapshot.cycles_per_stage),
        )

    def as_json(self) -> list[Any]:
        return [
            self.week_start.isoformat(),
            self.level,
            str(self.hours_saved_per_week),
            str(self.euros_per_year),
            self.cycles_per_stage,
        ]

    @classmethod
    def from_json(cls, row: list[Any]) -> Standing:
        week, level, hours, euros, per_stage = row
        return cls(date.fromisoformat(week), level, Decimal(hours), Decimal(euros), dict(per_stage))


@dataclass(frozen=True)
class WeekPoint:
    week_start: date
    level: int
    euros_per_year: Decimal


@dataclass(frozen=True)
class BacklogLine:
    """One open bottleneck candidate as the quarterly question shows it; None: its cost is unknown."""

    title: str
    cost_per_year: Decimal | None


@dataclass
class OrgDigest:
    """One organization's part of a digest, for the week ``week_start`` (Monday) to ``week_end`` (Sunday)."""

    week_start: date
    week_end: date
    changes: list[Change] = field(default_factory=list)
    more_changes: int = 0
    latest: Standing | None = None
    level_before: int | None = None
    euros_before: Decimal | None = None
    series: list[WeekPoint] = field(default_factory=list)
    open_cycles: int = 0
    # The quarter's question, and the open backlog's top three by cost per year when it is asked.
    asks_for_candidates: bool = False
    backlog: list[BacklogLine] = field(default_factory=list)
    # The anti-pattern radar's open findings as the workers last computed them (docs/radar.md).
    warnings: list[radar.Shown] = field(default_factory=list)

    @property
    def level(self) -> int | None:
        return self.latest.level if self.latest is not None else None

    @property
    def level_trend(self) -> int:
        """-1, 0 or +1: the level at the end of the week against four weeks before."""
        if self.level is None or self.level_before is None:
            return 0
        return (self.level > self.level_before) - (self.level < self.level_before)

    @property
    def euros_gained(self) -> Decimal:
        """What last week added to the yearly savings (negative when a measurement lowered it)."""
        if self.latest is None:
            return Decimal(0)
        return self.latest.euros_per_year - (self.euros_before or Decimal(0))

    @property
    def is_empty(self) -> bool:
        return not self.changes and self.latest is None and not self.open_cycles and not self.warnings


def previous_week(local_day: date) -> tuple[date, date]:
    """The Monday and Sunday of the week before the one ``local_day`` is in."""
    monday = week_start(local_day) - timedelta(days=7)
    return monday, monday + timedelta(days=6)


def asks_for_candidates(first: date) -> bool:
    """Whether the digest about the week from ``first`` asks for bottleneck candidates: the one sent in the
    week a quarter begins (the week after ``first``). A function of the week only, so a digest sent again
    for that week asks again, and no reader is asked twice in a quarter."""
    sent = first + timedelta(days=7)
    days = (sent + timedelta(days=offset) for offset in range(7))
    return any(day.day == 1 and day.month in QUARTER_MONTHS for day in days)


def _backlog(session: Session) -> list[BacklogLine]:
    """The open backlog's top three by cost per year, with the organization's rate and working weeks."""
    org = session.get(Organization, tenancy.require_org_id())
    if org is None:
        return []
    rate, weeks = org.default_hourly_rate, org.working_weeks_per_year
    lines = []
    for candidate in open_ranked(session, rate, weeks)[:BACKLOG_LINES]:
        cost = yearly_cost(candidate, rate, weeks)
        lines.append(BacklogLine(candidate.title, cost.total if cost is not None else None))
    return lines


def _utc_bounds(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """The week in the reader's timezone, as UTC instants: Monday 00:00 to the next Monday 00:00."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    # Stored timestamps are naive UTC on SQLite; comparing naive with naive keeps both databases alike.
    return start.replace(tzinfo=None), end.replace(tzinfo=None)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def _change_of(move: StageChange) -> ChangeKind:
    if move.from_stage is None:
        return ChangeKind.named
    if move.backwards:
        return ChangeKind.moved_back
    return ChangeKind.decided if move.to_stage == Stage.decided else ChangeKind.moved


@dataclass(frozen=True)
class _Timed:
    """A change with its naive UTC instant, to cut a reader's week by; ``starts_result``: a move forwards into
    the result stage, which a measurement of its cycle in the same week tells instead."""

    at: datetime
    change: Change
    starts_result: bool = False

    def as_json(self) -> list[Any]:
        return [self.at.isoformat(), self.change.as_json(), self.starts_result]

    @classmethod
    def from_json(cls, row: list[Any]) -> _Timed:
        at, change, starts_result = row
        return cls(datetime.fromisoformat(at), Change.from_json(change), starts_result)


def _shown_as_json(shown: radar.Shown) -> list[Any]:
    return [
        shown.pattern.value,
        shown.rule.value,
        shown.cycle_id,
        shown.cycle_title,
        shown.user_name,
        shown.figures,
        shown.opened_on.isoformat(),
    ]


def _shown_from_json(row: list[Any]) -> radar.Shown:
    pattern, rule, cycle_id, title, name, figures, opened_on = row
    return radar.Shown(Pattern(pattern), RadarRule(rule), cycle_id, title, name, figures, date.fromisoformat(opened_on))


@dataclass(frozen=True)
class OrgWeek:
    """What one organization's digest of one week is made of, for readers in any time zone: the week's
    changes over a window wide enough for every zone, and what does not depend on the zone. Read once per
    organization and week (``load``); ``in_zone`` cuts each reader's week from it without a query. Plain
    values and the snapshots' figures, no text: each reader's language formats them."""

    week_start: date
    week_end: date
    moves: list[_Timed]
    measurements: list[_Timed]
    snapshots: list[Standing]
    warnings: list[radar.Shown]
    asks_for_candidates: bool
    backlog: list[BacklogLine]

    def as_document(self) -> dict[str, Any]:
        """The week as JSON, without the quarter's question; its findings as of today (UTC, like the radar)."""
        return {
            "v": DOCUMENT_SCHEMA,
            "week_start": self.week_start.isoformat(),
            "week_end": self.week_end.isoformat(),
            "moves": [move.as_json() for move in self.moves],
            "measurements": [m.as_json() for m in self.measurements],
            "snapshots": [s.as_json() for s in self.snapshots],
            "warnings": [_shown_as_json(w) for w in self.warnings],
            "as_of": utcnow().date().isoformat(),
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any] | None, first: date, today: date) -> OrgWeek | None:
        """The week from ``first`` as ``doc`` stored it, its findings moved on to ``today``; None when ``doc``
        is of another week or shape."""
        if not doc or doc.get("v") != DOCUMENT_SCHEMA or doc["week_start"] != first.isoformat():
            return None
        as_of = date.fromisoformat(doc["as_of"])
        return cls(
            week_start=first,
            week_end=date.fromisoformat(doc["week_end"]),
            moves=[_Timed.from_json(row) for row in doc["moves"]],
            measurements=[_Timed.from_json(row) for row in doc["measurements"]],
            snapshots=[Standing.from_json(row) for row in doc["snapshots"]],
            warnings=[radar.moved_on(_shown_from_json(row), as_of, today) for row in doc["warnings"]],
            asks_for_candidates=False,
            backlog=[],
        )

    def in_zone(self, timezone: str) -> OrgDigest:
        """The digest for readers in ``timezone``: the week from their Monday 00:00 to their Sunday 24:00."""
        first = self.week_start
        start, end = _utc_bounds(first, self.week_end, timezone)
        measured = [m.change for m in self.measurements if start <= m.at < end]
        measured_cycles = {m.cycle_id for m in measured}
        changes = [
            move.change
            for move in self.moves
            if start <= move.at < end and not (move.starts_result and move.change.cycle_id in measured_cycles)
        ]
        changes += measured
        changes.sort(key=lambda c: c.at, reverse=True)
        digest = OrgDigest(
            week_start=first,
            week_end=self.week_end,
            changes=changes[:MAX_CHANGES],
            more_changes=max(0, len(changes) - MAX_CHANGES),
            warnings=list(self.warnings),
            asks_for_candidates=self.asks_for_candidates,
            backlog=list(self.backlog),
        )
        snapshots = self.snapshots
        if snapshots:
            digest.latest = snapshots[-1]
            digest.series = [WeekPoint(s.week_start, s.level, s.euros_per_year) for s in snapshots[-CHART_WEEKS:]]
            earlier = [s for s in snapshots if s.week_start <= first - timedelta(weeks=4)]
            digest.level_before = earlier[-1].level if earlier else snapshots[0].level
            week_before = [s for s in snapshots if s.week_start < first]
            digest.euros_before = week_before[-1].euros_per_year if week_before else Decimal(0)
            digest.open_cycles = sum(
                count for stage, count in digest.latest.cycles_per_stage.items() if stage != Stage.decided.value
            )
        return digest


# Time zones lie at most 14 hours from UTC: a day on each side holds the week as any of them sees it.
_ANY_ZONE = timedelta(days=1)


def load(session: Session, first: date, last: date) -> OrgWeek:
    """The current organization's week from ``first`` to ``last``, for readers in any time zone."""
    return _with_backlog(session, _read(session, first, last))


def current_weeks(session: Session, org_ids: Collection[int], first: date, last: date) -> dict[int, OrgWeek]:
    """``load`` for each organization of ``org_ids``: the week the trends recompute stored (``week_document``)
    while it describes this week and no change to the cycles came after it, read for all of them in one query
    (``tenancy.reading``); else, for that organization alone, from its rows in its own context."""
    with tenancy.reading(session, org_ids):
        weeks = stored_weeks(session, first)
    for org_id in org_ids:
        week = weeks.get(org_id)
        if week is None or asks_for_candidates(first):
            with tenancy.tenant_context(session, org_id):
                weeks[org_id] = load(session, first, last) if week is None else _with_backlog(session, week)
    return weeks


def stored_weeks(session: Session, first: date) -> dict[int, OrgWeek]:
    """The week from ``first`` by organization, as the trends recompute stored it, of every organization the
    session may read whose stored week is of this week and current; in one query. Without the quarter's
    question (``_with_backlog``)."""
    today = utcnow().date()
    weeks = {}
    for row in session.execute(_STORED).all():
        if row.computed_version >= row.version:
            week = OrgWeek.from_document(row.digest, first, today)
            if week is not None:
                weeks[row.organization_id] = week
    return weeks


_STORED = select(TrendState.organization_id, TrendState.version, TrendState.computed_version, TrendState.digest)


def week_document(session: Session, today: date) -> dict[str, Any]:
    """The current organization's week before ``today``'s as a JSON document, for the trends recompute to
    store: what the digests sent in ``today``'s week read (``current_weeks``)."""
    first, last = previous_week(today)
    return _read(session, first, last).as_document()


def _with_backlog(session: Session, week: OrgWeek) -> OrgWeek:
    """``week`` with the quarter's question (the current organization's): the backlog changes without a
    recompute, so it is never stored."""
    if not asks_for_candidates(week.week_start):
        return week
    # Two more queries, four times a year.
    return replace(week, asks_for_candidates=True, backlog=_backlog(session))


def _read(session: Session, first: date, last: date) -> OrgWeek:
    """The week's changes, the snapshots and the radar's findings, without the quarter's question."""
    start = datetime.combine(first, time.min) - _ANY_ZONE
    end = datetime.combine(last + timedelta(days=1), time.min) + _ANY_ZONE
    moves = session.execute(
        select(StageChange, Cycle.title, Cycle.decision)
        .join(Cycle, Cycle.id == StageChange.cycle_id)
        .where(StageChange.created_at >= start, StageChange.created_at < end)
        .order_by(StageChange.created_at, StageChange.id)
    ).all()
    measured = session.execute(
        select(Measurement.cycle_id, Measurement.measured_on, Measurement.created_at, Cycle.title)
        .join(Cycle, Cycle.id == Measurement.cycle_id)
        .where(Measurement.created_at >= start, Measurement.created_at < end)
        .order_by(Measurement.created_at, Measurement.id)
    ).all()
    # Snapshots up to the week that ended: a digest sent late still describes that week.
    snapshots = [Standing.of(s) for s in latest_snapshots(session, CHART_WEEKS + 8) if s.week_start <= first]
    return OrgWeek(
        week_start=first,
        week_end=last,
        moves=[
            _Timed(
                _naive_utc(move.created_at),
                Change(
                    kind=_change_of(move),
                    cycle_id=move.cycle_id,
                    cycle_title=title,
                    at=move.created_at,
                    stage=move.to_stage,
                    decision=decision if move.to_stage == Stage.decided else None,
                ),
                starts_result=move.to_stage == Stage.result and not move.backwards,
            )
            for move, title, decision in moves
        ],
        measurements=[
            _Timed(
                _naive_utc(m.created_at),
                Change(
                    kind=ChangeKind.measured,
                    cycle_id=m.cycle_id,
                    cycle_title=m.title,
                    at=m.created_at,
                    measured_on=m.measured_on,
                ),
            )
            for m in measured
        ],
        snapshots=snapshots,
        warnings=radar.current(session),
        asks_for_candidates=False,
        backlog=[],
    )


def build(session: Session, first: date, last: date, timezone: str) -> OrgDigest:
    """The current organization's digest for the days ``first`` to ``last`` in ``timezone``."""
    return load(session, first, last).in_zone(timezone)
