"""Many organizations with realistic histories, for the benchmark: ``engpass demo --scale N``.

A thousand organizations hold about 600,000 measurements, so rows go in with Core
``insert()`` in large executemany batches instead of one ORM object per row. Core skips
the ORM's tenant stamp, so every tenant row names its ``organization_id`` itself, checked
against the tenant context by ``tenancy.check_core_rows`` as a flush would, and each
organization is written inside its own tenant context because PostgreSQL's row-level
security checks every inserted row against it.

The histories obey the method's stage rules (a quantified baseline before a solution, a
measurement before a decision), end in the past, and are chains: each bottleneck is
picked after the previous decision, with the last few cycles still open. Trends are NOT
computed here: the benchmark measures the workers doing that.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Enum, String, Table, bindparam, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from engpass import tenancy
from engpass.accounts.models import User, new_session_token
from engpass.cycles.models import (
    STAGE_ORDER,
    CostSource,
    Cycle,
    Decision,
    IndirectCostItem,
    IndirectKind,
    Measurement,
    Period,
    ProcessStep,
    Stage,
    StageChange,
)
from engpass.demo.cycles import CHAINS, DemoCycle
from engpass.demo.scale_roster import (
    NAME_PREFIX,
    member_email,
    member_locale,
    member_role,
    org_name,
    org_slug,
    owner_email,
)
from engpass.organizations.models import Membership, Organization, OrgKind, Role

ORGS_PER_COMMIT = 50
# The open cycles at the end of each chain, furthest first; a chain has one to three of them.
OPEN_STAGES = (Stage.result, Stage.prototype, Stage.baseline)
MAX_MEASUREMENT_SPACING_DAYS = 7
# Everything a scale organization does happened before this many days ago.
END_MARGIN_DAYS = 2

# Every template of the hand-written demo, so the scale organizations read like real companies.
TEMPLATES: tuple[DemoCycle, ...] = tuple(spec for chain in CHAINS.values() for spec in chain if spec.solution[0])
DECISIONS = (Decision.scale,) * 5 + (Decision.iterate,) * 3 + (Decision.drop,) * 2
REASONS = {
    Decision.scale: "Die Messung zeigt den Effekt, wir rollen es aus.",
    Decision.iterate: "Besser als vorher, aber noch nicht am Ziel.",
    Decision.drop: "Kaum Wirkung: wir lassen es und nehmen den nächsten Engpass.",
}
LESSONS = (
    "Die einfachste Lösung war schnell gebaut.",
    "Ein Teil der Fälle lief an ihr vorbei.",
    "Früher und öfter messen.",
)
STEPS = (("Anfrage aufnehmen", "Vertrieb", 20), ("Daten zusammensuchen", "Innendienst", 90), ("Freigabe", "GF", 15))


@dataclass(frozen=True)
class ScaleResult:
    created: int
    skipped: int


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


@dataclass
class _PlannedCycle:
    spec: DemoCycle
    reached: Stage
    start: int  # day offsets from the chain's first day
    entered: dict[Stage, int]
    decision: Decision | None
    focus_warning: bool


def _plan_chain(rng: random.Random, cycles: int, measurements: int) -> tuple[list[_PlannedCycle], int]:
    """Day offsets of a chain; returns the cycles and how many days before "today" the chain must start."""
    open_count = min(cycles, rng.randint(1, len(OPEN_STAGES)))
    plans: list[_PlannedCycle] = []
    day = 0
    for index in range(cycles):
        open_index = index - (cycles - open_count)
        reached = OPEN_STAGES[open_index] if open_index >= 0 else Stage.decided
        entered = {Stage.bottleneck: day}
        entered[Stage.baseline] = entered[Stage.bottleneck] + rng.randint(1, 3)
        entered[Stage.solution] = entered[Stage.baseline] + rng.randint(2, 5)
        entered[Stage.prototype] = entered[Stage.solution] + rng.randint(1, 3)
        # Most prototypes take two to four weeks; a few overrun, as they do.
        entered[Stage.result] = entered[Stage.prototype] + rng.choice((9, 12, 14, 17, 21, 24, 27, 33))
        entered[Stage.decided] = entered[Stage.result] + rng.randint(3, 7)
        last = STAGE_ORDER.index(reached)
        entered = {stage: offset for stage, offset in entered.items() if STAGE_ORDER.index(stage) <= last}
        plans.append(
            _PlannedCycle(
                spec=TEMPLATES[rng.randrange(len(TEMPLATES))],
                reached=reached,
                start=day,
                entered=entered,
                decision=rng.choice(DECISIONS) if reached == Stage.decided else None,
                # A later open cycle starts while an earlier one is still open: the method's warning.
                focus_warning=open_index > 0,
            )
        )
        if reached == Stage.decided:
            day = entered[Stage.decided] + rng.randint(1, 12)
        else:
            day = entered[reached] + rng.randint(3, 10)
    span = max(max(p.entered.values()) for p in plans)
    # The latest measured cycle needs a day of its own for each of its measurements before today.
    results = [p.entered[Stage.result] for p in plans if Stage.result in p.entered]
    room = span - max(results) if results else 0
    return plans, span + END_MARGIN_DAYS + max(0, measurements + 1 - room)


class _Rows:
    """Rows of many organizations, grouped per table, written per organization."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.changes: list[dict[str, Any]] = []
        self.measurements: list[dict[str, Any]] = []
        self.items: list[dict[str, Any]] = []


def _cycle_row(plan: _PlannedCycle, org_id: int, owner_id: int, first_day: date, rng: random.Random) -> dict[str, Any]:
    """The cycle's row; ``owner_id`` is the person responsible, who also did everything in it."""
    spec = plan.spec
    name, unit, direction, baseline, target = spec.kpi
    what, solution_type, effort, one_off, running = spec.solution
    at = {stage: _at(first_day + timedelta(days=offset)) for stage, offset in plan.entered.items()}
    reached = STAGE_ORDER.index(plan.reached)
    hours = spec.hours + rng.randint(-2, 4)
    row: dict[str, Any] = {
        "organization_id": org_id,
        "title": spec.title,
        "category": spec.category,
        "why": spec.why,
        "stage": plan.reached,
        "owner_id": owner_id,
        "created_by_id": owner_id,
        "previous_cycle_id": None,
        "focus_warning": plan.focus_warning,
        "created_at": at[Stage.bottleneck],
        "updated_at": max(at.values()),
        "decision": plan.decision,
        "decision_reason": REASONS[plan.decision] if plan.decision else None,
        "sponsor_id": owner_id,
    }
    # Every row names every column: the rows are inserted in batches of one statement each.
    lessons = LESSONS if plan.decision else (None, None, None)
    row.update(zip(("lessons_worked", "lessons_failed", "lessons_differently"), lessons, strict=True))
    for stage in STAGE_ORDER:
        row[f"{stage.value}_at"] = at.get(stage)
    quantified = reached >= STAGE_ORDER.index(Stage.baseline)
    solved = reached >= STAGE_ORDER.index(Stage.solution)
    prototyped = reached >= STAGE_ORDER.index(Stage.prototype)
    # Entering "solution" needs the numbers; a cycle still in "baseline" is collecting them.
    has_numbers = solved or (quantified and rng.random() < 0.5)
    row.update(
        hours_per_week=Decimal(hours) if has_numbers else None,
        direct_cost_per_week=Decimal(spec.cost) if has_numbers else None,
        indirect_cost_per_week=Decimal(spec.cost // 3) if has_numbers else None,
        kpi_name=name if has_numbers else None,
        kpi_unit=unit if has_numbers else None,
        kpi_direction=direction if has_numbers else None,
        kpi_baseline=Decimal(str(baseline)) if has_numbers else None,
        kpi_target=Decimal(str(target)) if has_numbers else None,
        solution_what=what if solved else None,
        solution_type=solution_type if solved else None,
        expected_effect=f"{name}: {baseline:g} → {target:g} {unit}" if solved else None,
        effort_days=Decimal(effort) if solved else None,
        one_off_cost=Decimal(one_off) if solved else None,
        running_cost_per_month=Decimal(running) if solved else None,
        prototype_start=at[Stage.prototype].date() if prototyped else None,
        prototype_target=at[Stage.prototype].date() + timedelta(weeks=4) if prototyped else None,
    )
    return row


def _add_children(
    rows: _Rows,
    plan: _PlannedCycle,
    cycle: dict[str, Any],
    cycle_id: int,
    measurements: int,
    today: date,
    rng: random.Random,
) -> None:
    org_id, owner_id = cycle["organization_id"], cycle["owner_id"]
    if cycle["hours_per_week"] is not None:
        for position, (name, role, minutes) in enumerate(STEPS, start=1):
            rows.steps.append(
                {
                    "organization_id": org_id,
                    "cycle_id": cycle_id,
                    "position": position,
                    "name": name,
                    "role": role,
                    "minutes": minutes,
                }
            )
    if cycle["indirect_cost_per_week"] is not None:
        # The weekly indirect cost as the one item it is derived from (per week, so the same at any weeks).
        rows.items.append(
            {
                "organization_id": org_id,
                "cycle_id": cycle_id,
                "position": 1,
                "label": "Nacharbeit und Verzug",
                "kind": IndirectKind.other,
                "quantity": None,
                "unit_value": cycle["indirect_cost_per_week"],
                "people_affected": None,
                "period": Period.week,
                "source": CostSource.estimated,
                "source_note": "",
                "created_by_id": owner_id,
                "created_at": cycle["baseline_at"],
            }
        )
    previous = None
    for stage in STAGE_ORDER[: STAGE_ORDER.index(plan.reached) + 1]:
        rows.changes.append(
            {
                "organization_id": org_id,
                "cycle_id": cycle_id,
                "from_stage": previous,
                "to_stage": stage,
                "backwards": False,
                "actor_id": owner_id,
                "created_at": cycle[f"{stage.value}_at"],
            }
        )
        previous = stage
    result_at = cycle["result_at"]
    if result_at is None or measurements < 1:
        return
    # The first measurement on the day after the result stage starts (before any decision), then
    # spaced out over months, the latest ones no later than yesterday.
    first = result_at.date() + timedelta(days=1)
    room = (today - timedelta(days=1) - first).days
    spacing = max(1, min(MAX_MEASUREMENT_SPACING_DAYS, room // max(1, measurements - 1)))
    spec = plan.spec
    _, _, _, baseline, target = spec.kpi
    hours_before = float(cycle["hours_per_week"])
    achieved = {Decision.scale: 1.0, Decision.iterate: 0.6, Decision.drop: 0.15}.get(plan.decision, 0.7)
    hours_after = hours_before - (spec.hours - spec.hours_after) * achieved
    with_cost = rng.random() < 0.5
    cost_before = float(cycle["direct_cost_per_week"] + cycle["indirect_cost_per_week"])
    for i in range(measurements):
        day = first + timedelta(days=i * spacing)
        # The effect builds up over the first weeks, then holds with some noise.
        progress = achieved * min(1.0, (i + 1) / 6) * rng.uniform(0.9, 1.1)
        rows.measurements.append(
            {
                "organization_id": org_id,
                "cycle_id": cycle_id,
                "measured_on": day,
                "kpi_value": Decimal(f"{baseline + (target - baseline) * progress:.2f}"),
                "hours_per_week": Decimal(f"{hours_before + (hours_after - hours_before) * progress:.1f}"),
                "cost_per_week": Decimal(f"{cost_before * (1 - 0.3 * progress):.2f}") if with_cost else None,
                "note": "",
                "created_by_id": owner_id,
                "created_at": _at(day, 16),
            }
        )


def _bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows of one organization in one statement.

    On PostgreSQL, psycopg's executemany sends one INSERT per row, and a multi-row VALUES
    list with thousands of placeholders costs more to convert client-side than to run; one
    array per column, unnested by the server, is a single small statement. COPY would be
    faster still but is refused on tables under row-level security.
    """
    if not rows:
        return
    tenancy.check_core_rows(table.name, rows)
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    columns = []
    for name in names:
        column_type = table.c[name].type
        # Enums are stored as strings: send them as text and let the CHECK constraint judge.
        element_type = String() if isinstance(column_type, Enum) else column_type
        values = [row[name] for row in rows]
        if isinstance(column_type, Enum):
            values = [None if v is None else getattr(v, "value", v) for v in values]
        columns.append(func.unnest(cast(bindparam(name, values, type_=ARRAY(element_type)), ARRAY(element_type))))
    session.execute(insert(table).from_select(names, select(*columns)))


def _insert_cycles(session: Session, planned: list[tuple[_PlannedCycle, dict[str, Any]]]) -> list[int]:
    """One statement for an organization's cycles; ids come back in the rows' order."""
    tenancy.check_core_rows(Cycle.__tablename__, [row for _, row in planned])
    ids = session.execute(
        insert(Cycle.__table__).returning(Cycle.__table__.c.id, sort_by_parameter_order=True),
        [row for _, row in planned],
    ).scalars()
    return list(ids)


def _link_chain(session: Session, ids: list[int]) -> None:
    """Each cycle points to the one before it: the chain the cycle pages walk. The ids are the ones
    ``_insert_cycles`` just wrote in this tenant context, so the update names no other organization's row."""
    if len(ids) < 2:
        return
    table = Cycle.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("cycle_id")).values(previous_cycle_id=bindparam("previous")),
        [{"cycle_id": current, "previous": previous} for previous, current in zip(ids, ids[1:], strict=False)],
        execution_options={"synchronize_session": False},
    )


def _fill_org(
    session: Session, org_id: int, owners: list[int], number: int, cycles: int, measurements: int, today: date
) -> int:
    """Write one organization's chain inside its tenant context; returns the measurement rows.

    ``owners``: who may be responsible for a cycle (the owner, then the members who may edit);
    the cycles go to them in turn, so members have their own to-do items.
    """
    rng = random.Random(number)
    plans, days_back = _plan_chain(rng, cycles, measurements)
    first_day = today - timedelta(days=days_back)
    planned = [
        (plan, _cycle_row(plan, org_id, owners[index % len(owners)], first_day, rng))
        for index, plan in enumerate(plans)
    ]
    rows = _Rows()
    with tenancy.tenant_context(session, org_id):
        ids = _insert_cycles(session, planned)
        _link_chain(session, ids)
        for (plan, row), cycle_id in zip(planned, ids, strict=True):
            _add_children(rows, plan, row, cycle_id, measurements, today, rng)
        for table, batch in (
            (ProcessStep.__table__, rows.steps),
            (StageChange.__table__, rows.changes),
            (Measurement.__table__, rows.measurements),
            (IndirectCostItem.__table__, rows.items),
        ):
            _bulk_insert(session, table, batch)
    return len(rows.measurements)


def _existing_numbers(session: Session) -> set[int]:
    names = session.scalars(select(Organization.name).where(Organization.name.startswith(NAME_PREFIX + " ")))
    return {int(name.rsplit(" ", 1)[1]) for name in names if name.rsplit(" ", 1)[1].isdigit()}


def _create_users(
    session: Session, people: dict[str, tuple[str, str]], password_hash: str, now: datetime
) -> dict[str, int]:
    """The users of ``people`` (e-mail: name, locale) that are missing, in one statement; returns ids by e-mail."""
    found = {
        email: user_id
        for email, user_id in session.execute(select(User.email, User.id).where(User.email.in_(list(people))))
    }
    missing = [email for email in people if email not in found]
    if missing:
        rows = [
            {
                "email": email,
                "name": people[email][0],
                "password_hash": password_hash,
                "locale": people[email][1],
                "timezone": "Europe/Berlin",
                "session_token": new_session_token(),
                "password_changed_at": now,
                "created_at": now,
            }
            for email in missing
        ]
        ids = session.execute(
            insert(User.__table__).returning(User.__table__.c.id, sort_by_parameter_order=True), rows
        ).scalars()
        found.update(zip(missing, ids, strict=True))
    return {email: found[email] for email in people}


def _roster(number: int, members: int) -> list[tuple[str, str, str, Role]]:
    """Organization ``number``'s people: e-mail, name, language, role; the owner first."""
    return [(owner_email(number), f"Inhaberin {number:04d}", "de", Role.owner)] + [
        (member_email(number, m), f"Mitarbeiter {number:04d}-{m:02d}", member_locale(m), member_role(m))
        for m in range(1, members + 1)
    ]


def _create_orgs(session: Session, numbers: list[int], now: datetime, rng: random.Random) -> dict[int, int]:
    rows = [
        {
            "name": org_name(n),
            "slug": org_slug(n),
            "kind": OrgKind.company,
            "locale": "de",
            "timezone": "Europe/Berlin",
            "currency": "EUR",
            "default_hourly_rate": Decimal(rng.choice((52, 58, 65, 72, 80))),
            "created_at": now,
        }
        for n in numbers
    ]
    ids = session.execute(
        insert(Organization.__table__).returning(Organization.__table__.c.id, sort_by_parameter_order=True), rows
    ).scalars()
    return dict(zip(numbers, ids, strict=True))


def load_scale(
    session: Session,
    count: int,
    *,
    cycles: int = 20,
    measurements: int = 30,
    members: int = 0,
    password: str = "engpass-demo",
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
    commit: bool = True,
) -> ScaleResult:
    """Create "Bench Firma 0001" … up to ``count``, skipping the ones that exist; commits per batch.

    ``members``: people besides the owner in each new organization (``member_email``, roles by
    ``member_role``), the readers of the digest benchmark. ``commit=False`` leaves committing to
    the caller (tests run inside one transaction).
    """
    today = today or date.today()
    existing = _existing_numbers(session)
    todo = [n for n in range(1, count + 1) if n not in existing]
    # Hashing is deliberately slow; every owner shares the one password, so hash it once.
    password_hash = generate_password_hash(password)
    now = datetime.now(UTC)
    measured = 0
    for start in range(0, len(todo), ORGS_PER_COMMIT):
        numbers = todo[start : start + ORGS_PER_COMMIT]
        rosters = {n: _roster(n, members) for n in numbers}
        # Each organization's people one after the other, so their ids are too (as a digest batch finds them).
        people = {email: (name, locale) for n in numbers for email, name, locale, _ in rosters[n]}
        users = _create_users(session, people, password_hash, now)
        orgs = _create_orgs(session, numbers, now, random.Random(numbers[0]))
        session.execute(
            insert(Membership.__table__),
            [
                {"user_id": users[email], "organization_id": orgs[n], "role": role, "created_at": now}
                for n in numbers
                for email, _, _, role in rosters[n]
            ],
        )
        for n in numbers:
            editors = [users[email] for email, _, _, role in rosters[n] if role != Role.viewer]
            measured += _fill_org(session, orgs[n], editors, n, cycles, measurements, today)
        if commit:
            session.commit()
        if progress is not None:
            done = start + len(numbers)
            progress(f"{done}/{len(todo)} organizations, {measured} measurements")
    return ScaleResult(created=len(todo), skipped=count - len(todo))
