"""Computing and storing trend snapshots; marking an organization's trends as out of date.

Recompute is idempotent: the weeks it writes are upserted on (organization, week), so
running it twice, or two workers at once, leaves the same rows. Facts as of a day depend
only on data dated on or before that day, so a change dated D leaves every week that ends
before D as it was: after a change only the weeks from the earliest changed day on are
rewritten (plus the weeks that began since the last run). The nightly run recomputes only the
organizations due (``due_organizations``): a change pending, a new week begun, or a radar threshold
crossed since their last run; ``full`` rewrites every week, for the explicit rebuild.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from statistics import median
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    String,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, scoped_session

from engpass import task_names, tenancy
from engpass.cycles.models import STAGE_ORDER, Decision, Stage
from engpass.db import dialect_insert, utcnow
from engpass.maturity.facts import History, facts_as_of, load_history
from engpass.maturity.model import CycleFacts
from engpass.maturity.model import compute as compute_maturity
from engpass.organizations.models import Organization
from engpass.outbox.service import enqueue
from engpass.radar import rules as radar_rules
from engpass.radar import service as radar
from engpass.tenancy import require_org_id
from engpass.trends import portfolio
from engpass.trends.models import TrendSchedule, TrendSnapshot, TrendState

MARKED_KEY = "engpass.trends.marked"
# Stage timestamps are UTC instants read back in the database session's zone, measurement and
# prototype dates are the user's days: a changed day may sit one day off the week it shows in.
DAY_MARGIN = timedelta(days=1)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _median(values: list[int]) -> Decimal | None:
    return Decimal(str(round(median(values), 1))) if values else None


def _counts_for_savings(c: CycleFacts) -> bool:
    """Savings count once measured, unless the solution was dropped."""
    return c.stage in (Stage.result, Stage.decided) and c.decision != Decision.drop


def snapshot_values(history: History, week: date, open_warnings: int = 0) -> dict[str, Any]:
    """Everything a snapshot holds, as of the Sunday that ends ``week``; ``open_warnings``, the radar's open
    findings, are known for the current week only (earlier weeks keep the level their cycles gave them)."""
    end = week + timedelta(days=6)
    facts = facts_as_of(history, end)
    maturity = compute_maturity(facts, end, open_warnings)
    stages = Counter(c.stage.value for c in facts)
    lead_times = [(c.result_on - c.created_on).days for c in facts if c.result_on is not None]
    prototype = [(c.result_on - c.prototype_start).days for c in facts if c.result_on and c.prototype_start]
    decided = [c for c in facts if c.stage == Stage.decided]
    return {
        "week_start": week,
        "level": maturity.level,
        "scores": maturity.scores,
        "reasons": [r.as_json() for r in maturity.reasons],
        "missing": [r.as_json() for r in maturity.missing_for_next],
        "proven_cycles": maturity.proven_cycles,
        "hours_saved_per_week": sum(
            (c.hours_saved_per_week for c in facts if _counts_for_savings(c) and c.hours_saved_per_week), Decimal(0)
        ),
        "euros_per_year": sum(
            (c.euros_per_year for c in facts if _counts_for_savings(c) and c.euros_per_year), Decimal(0)
        ),
        "cycles_per_stage": {stage.value: stages.get(stage.value, 0) for stage in STAGE_ORDER},
        "median_lead_time_days": _median(lead_times),
        "median_prototype_days": _median(prototype),
        "proven_share": round(100 * maturity.proven_cycles / len(decided)) if decided else 0,
    }


def weeks_of(history: History, today: date) -> list[date]:
    """Every week from the first cycle's to the current one."""
    starts = [c.bottleneck_at.date() for c in history.cycles if c.bottleneck_at is not None]
    if not starts:
        return [week_start(today)]
    week, last, weeks = week_start(min(starts)), week_start(today), []
    while week <= last:
        weeks.append(week)
        week += timedelta(weeks=1)
    return weeks


def _json_value(value: object) -> str:
    """Decimals and dates as the text PostgreSQL reads back into the same numeric and date values."""
    if isinstance(value, Decimal | date):
        return value.isoformat() if isinstance(value, date) else str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert or rewrite the rows by (organization, week); the rows name their organization, so the
    table is used without the ORM, and the tenancy checks them as a flush would."""
    table = TrendSnapshot.__table__
    tenancy.check_core_rows(table.name, rows)
    names = list(rows[0])
    keep = ("organization_id", "week_start")
    if session.get_bind().dialect.name == "postgresql":
        # All rows as one JSON document that the server turns into rows: executing one statement per
        # row costs the client more than computing the row (bind processing, a JSON encoding per JSON
        # column, psycopg's per-statement work), and a multi-row VALUES list is compiled anew for each
        # organization.
        document = cast(bindparam("rows", json.dumps(rows, default=_json_value), type_=String), postgresql.JSON)
        source = select(*(literal_column(f"r.{name}") for name in names)).select_from(
            func.json_populate_recordset(literal_column(f"NULL::{table.name}"), document).alias("r")
        )
        stmt = postgresql.insert(table).from_select(names, source)
        columns = {name: stmt.excluded[name] for name in names if name not in keep}
        session.execute(stmt.on_conflict_do_update(index_elements=list(keep), set_=columns))
        return
    # SQLite: one statement with many parameter sets, compiled once and cached.
    stmt = sqlite.insert(table)
    columns = {name: stmt.excluded[name] for name in names if name not in keep}
    session.execute(stmt.on_conflict_do_update(index_elements=list(keep), set_=columns), rows)


def _rewrite_from(state: TrendState | None) -> date | None:
    """The first day whose week the next recompute rewrites; None for every week."""
    if state is None or state.computed_at is None:
        return None
    if state.computed_version < state.version and state.dirty_since is None:
        return None
    # Weeks that began since the last run were never written, whatever the change's own day.
    since = state.computed_at.date()
    if state.dirty_since is not None:
        since = min(since, state.dirty_since)
    return since - DAY_MARGIN


def recompute(session: Session, today: date | None = None, full: bool = False) -> int:
    """Rewrite the current organization's weekly snapshots that the pending changes can affect (all of
    them with ``full``); returns how many weeks were written."""
    org_id = require_org_id()
    state = session.scalars(select(TrendState).with_for_update()).first()
    version = state.version if state is not None else 0
    org = session.get(Organization, org_id)
    if org is None:
        return 0
    history = load_history(session, org.default_hourly_rate, org.working_weeks_per_year)
    today = today or utcnow().date()
    now = utcnow()
    weeks = weeks_of(history, today)
    first_week = weeks[0]
    first_stored = session.scalar(select(func.min(TrendSnapshot.week_start)))
    if first_stored is not None and first_stored < first_week:
        # The history now starts later (its first cycle was deleted): its former first weeks are stale.
        session.execute(
            delete(TrendSnapshot).where(TrendSnapshot.week_start < first_week),
            execution_options={"synchronize_session": False},
        )
    since = None if full else _rewrite_from(state)
    # Stored weeks that do not reach back to the history's start (none yet, or cycles written around
    # the services) are incomplete: then every week is rewritten.
    if since is not None and first_stored is not None and first_stored <= first_week:
        weeks = [week for week in weeks if week >= week_start(since)]
    # The anti-pattern radar as of today (two queries): its open findings cap the current week's level.
    facts = radar.situation(session, history.cycles, history.measurements, history.hourly_rate, history.weeks_per_year)
    warnings = radar.recompute(session, facts, today)
    current = week_start(today)
    rows = [
        {
            **snapshot_values(history, week, warnings if week == current else 0),
            "organization_id": org_id,
            "computed_at": now,
        }
        for week in weeks
    ]
    if rows:
        _upsert(session, rows)
    # What a consultancy's portfolio shows of this organization, as of today (two queries).
    summary = portfolio.summary(session, history, today, state, warnings)
    # The digests of this week tell the week before from the rows just written (four queries).
    digest_week = _digest_week(session, today)
    _schedule(session, org_id, next_due(facts, today))
    if state is None:
        session.add(TrendState(version=0, computed_version=0, computed_at=now, portfolio=summary, digest=digest_week))
    else:
        state.computed_version = version
        state.computed_at = now
        state.dirty_since = None
        state.portfolio = summary
        state.digest = digest_week
    session.flush()
    return len(rows)


def _digest_week(session: Session, today: date) -> dict[str, Any]:
    # Imported here: the digest's content reads the snapshots through this module.
    from engpass.digest.content import week_document

    return week_document(session, today)


def next_due(facts: radar_rules.Situation, today: date) -> date:
    """The day this organization needs its next recompute if nothing changes: next week's Monday (the new
    week's snapshot, the portfolio's level four weeks before), or the day a radar threshold is crossed (the
    findings, and the current week's level they cap). Nothing else a recompute writes moves with the calendar:
    a snapshot is as of its week's Sunday, the portfolio's reminders are stored with the day each opens and
    its savings extrapolated when read, the findings' day counts moved on when read."""
    monday = week_start(today) + timedelta(weeks=1)
    threshold = radar_rules.next_change(facts, today)
    return min(monday, threshold) if threshold is not None else monday


def _schedule(session: Session, org_id: int, due_on: date) -> None:
    stmt = dialect_insert(session, TrendSchedule).values(organization_id=org_id, due_on=due_on)
    session.execute(stmt.on_conflict_do_update(index_elements=["organization_id"], set_={"due_on": due_on}))


def due_organizations(session: Session, today: date | None = None) -> list[int]:
    """Every organization whose trends need a recompute on ``today`` (UTC): a change pending, a new week,
    a radar threshold, or never computed. One query, across organizations (no tenant context)."""
    today = today or utcnow().date()
    return list(
        session.scalars(
            select(Organization.id)
            .outerjoin(TrendSchedule, TrendSchedule.organization_id == Organization.id)
            .where((TrendSchedule.due_on <= today) | TrendSchedule.organization_id.is_(None))
            .order_by(Organization.id)
        )
    )


def is_current(session: Session) -> bool:
    state = session.scalars(select(TrendState)).first()
    return state is not None and state.computed_version >= state.version


def mark_changed(session: Session | scoped_session[Session], since: date | None = None) -> None:
    """Call from every change to an organization's cycles: bump the version, ask the workers once.

    ``since`` is the earliest day the change can affect; None when it may affect every week.
    """
    if isinstance(session, scoped_session):
        # The savepoint lookup below exists on sessions only; views pass the request's scoped session.
        session = session()
    org_id = require_org_id()
    # Merged with a pending request in the same UPDATE, against the row as it is when the update gets
    # it (a concurrent recompute holds it locked until it has committed): a full request stays full,
    # else the earlier day wins; a state that is up to date takes ``since`` as it is.
    dirty_since: ColumnElement[date] | None = None
    if since is not None:
        behind = TrendState.version > TrendState.computed_version
        dirty_since = case(
            (behind & TrendState.dirty_since.is_(None), None),
            (behind & (TrendState.dirty_since < since), TrendState.dirty_since),
            else_=literal(since, Date),
        )
    bumped = session.execute(
        update(TrendState).values(version=TrendState.version + 1, changed_at=utcnow(), dirty_since=dirty_since),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not bumped:
        # Nothing computed yet: the first recompute rewrites every week whatever this says.
        session.add(TrendState(version=1, computed_version=0, dirty_since=since))
    # Due tonight should the recompute this asks for be lost; no schedule yet is due already.
    today = utcnow().date()
    session.execute(
        update(TrendSchedule)
        .where(TrendSchedule.organization_id == org_id, TrendSchedule.due_on > today)
        .values(due_on=today),
        execution_options={"synchronize_session": False},
    )
    # One message per organization and (innermost) transaction, however many edits it holds; keyed on the
    # savepoint, so a rolled-back savepoint that took the message with it does not suppress the next one.
    transaction = session.get_nested_transaction() or session.get_transaction()
    owner, marked = session.info.get(MARKED_KEY, (None, set()))
    if owner is not transaction:
        marked = set()
        session.info[MARKED_KEY] = (transaction, marked)
    if org_id not in marked:
        marked.add(org_id)
        enqueue(session, task_names.RECOMPUTE_TRENDS)
    session.flush()


def latest_snapshots(session: Session, weeks: int = 52) -> list[TrendSnapshot]:
    """The most recent ``weeks`` snapshots, oldest first, in one query."""
    rows = session.scalars(select(TrendSnapshot).order_by(TrendSnapshot.week_start.desc()).limit(weeks)).all()
    return list(reversed(rows))
