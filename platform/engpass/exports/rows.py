"""The exported tables of cycles: their columns and their rows as typed values, for any writer.

Plain functions over a ``Session`` in the current organization (tenant context), used by the table's
downloads, the organization's data export and anyone else who needs the same rows (a user's own data
export): ``cycles``, ``measurements``, ``business_cases`` and ``indirect_costs`` each return a ``Sheet`` —
translated column
labels (in the language in force, ``flask_babel.force_locale`` or a request's) and an iterator of rows.

Values are Python values, never formatted text: ``str``, ``int``, ``Decimal``, ``date``, naive ``datetime``
in the reader's time zone (Flask-Babel's ``get_timezone``; the JSON of the data export keeps UTC) or
``None`` for empty. The writers (``csvfile``, ``workbook``) decide how each ``Kind`` looks.

Each sheet is one query, whatever the number of cycles, streamed in batches (``yield_per``): rows are
produced while the cursor is read, so memory stays bounded. The cycles' sheet reads the indirect cost items
in one more query, for the status quo's cost per year. A ``TableQuery`` narrows and orders them
exactly as the cycle table does; without one, every cycle in the table's default order.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import to_user_timezone
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased, scoped_session
from sqlalchemy.orm.attributes import set_committed_value

from engpass.accounts.models import User
from engpass.cycles import indirect_costs
from engpass.cycles.business_case import compute, status_quo_cost
from engpass.cycles.forms import DECISION_LABELS, DIRECTION_LABELS, SOLUTION_TYPE_LABELS, STAGE_LABELS
from engpass.cycles.models import Cycle, IndirectCostItem, Measurement
from engpass.cycles.table_query import TableQuery
from engpass.cycles.templates import CATEGORY_LABELS
from engpass.exports import effect_columns
from engpass.organizations.models import Organization

# Rows fetched per round trip while streaming.
BATCH = 500


class Kind(enum.StrEnum):
    text = "text"
    integer = "integer"
    number = "number"
    money = "money"  # in the organization's currency, named in the column's label
    percent = "percent"  # in percent units: -55.6 means −55,6 %
    date = "date"
    datetime = "datetime"


@dataclass(frozen=True)
class Column:
    key: str  # stable, English: the same in every language (for programs reading the file)
    label: str  # the header, in the reader's language
    kind: Kind
    width: int = 14  # characters, for the spreadsheet


@dataclass
class Sheet:
    key: str  # cycles | measurements | business-cases
    title: str  # translated: sheet and file names
    columns: list[Column]
    rows: Iterator[list[Any]]


AnySession = Session | scoped_session[Session]


def _label(labels: dict[Any, Any], value: Any) -> str | None:
    return None if value is None else str(labels.get(value, value))


def _code(value: enum.Enum | str | None) -> str | None:
    # An object changed in this session may still hold the plain string it was given.
    return None if value is None else str(getattr(value, "value", value))


def local(value: datetime | None) -> datetime | None:
    """A stored (UTC) moment as the reader's wall-clock time, to the second: spreadsheets know no time zones."""
    if value is None:
        return None
    return to_user_timezone(value).replace(tzinfo=None, microsecond=0)


def _money(key: str, label: str, currency: str, width: int = 14) -> Column:
    return Column(key, f"{label} ({currency})", Kind.money, width)


def _percent(key: str, label: str) -> Column:
    return Column(key, f"{label} (%)", Kind.percent, 12)


def _with_latest_measurement(query: TableQuery) -> Any:
    """Cycles with their owner's name, their latest measurement, their number of measurements and their
    sponsor's name: one query.

    The business case needs only the latest measurement (``business_case.latest``: the latest date, ties
    broken by the later entry); a window picks it per cycle.
    """
    ranked = select(
        Measurement,
        func.row_number()
        .over(partition_by=Measurement.cycle_id, order_by=(Measurement.measured_on.desc(), Measurement.id.desc()))
        .label("position"),
        func.count().over(partition_by=Measurement.cycle_id).label("total"),
    ).subquery()
    latest = aliased(Measurement, ranked)
    sponsor = aliased(User)
    stmt = (
        select(Cycle, User.name, latest, ranked.c.total, sponsor.name)
        .outerjoin(User, User.id == Cycle.owner_id)
        .outerjoin(sponsor, sponsor.id == Cycle.sponsor_id)
        .outerjoin(latest, and_(ranked.c.cycle_id == Cycle.id, ranked.c.position == 1))
    )
    return query.order(query.filter(stmt))


def _stream(session: AnySession, stmt: Any) -> Iterator[Any]:
    yield from session.execute(stmt.execution_options(yield_per=BATCH))


def _items_by_cycle(session: AnySession) -> dict[int, list[IndirectCostItem]]:
    """Every indirect cost item of the organization by cycle, in order: one query for all the cycles."""
    found: dict[int, list[IndirectCostItem]] = {}
    stmt = select(IndirectCostItem).order_by(IndirectCostItem.cycle_id, IndirectCostItem.position, IndirectCostItem.id)
    for item in session.scalars(stmt):
        found.setdefault(item.cycle_id, []).append(item)
    return found


def cycles(session: AnySession, org: Organization, query: TableQuery | None = None) -> Sheet:
    """One row per cycle: everything the cycle page says, with the business case's key figures."""
    cur = org.currency
    columns = [
        Column("id", _("ID"), Kind.integer, 8),
        Column("title", _("Title"), Kind.text, 40),
        Column("category", _("Category (code)"), Kind.text, 14),
        Column("category_label", _("Category"), Kind.text, 22),
        Column("stage", _("Stage (code)"), Kind.text, 12),
        Column("stage_label", _("Stage"), Kind.text, 14),
        Column("owner", _("Responsible"), Kind.text, 22),
        Column("sponsor", _("Sponsor"), Kind.text, 22),
        Column("why", _("Why this is the biggest lever"), Kind.text, 40),
        Column("previous_cycle_id", _("Previous cycle (ID)"), Kind.integer, 10),
        Column("created_at", _("Created"), Kind.datetime, 18),
        Column("updated_at", _("Last change"), Kind.datetime, 18),
        Column("baseline_at", _("Status quo since"), Kind.datetime, 18),
        Column("solution_at", _("Solution since"), Kind.datetime, 18),
        Column("prototype_at", _("Prototype since"), Kind.datetime, 18),
        Column("result_at", _("Result since"), Kind.datetime, 18),
        Column("decided_at", _("Decided on"), Kind.datetime, 18),
        Column("hours_per_week", _("Hours per week"), Kind.number),
        _money("direct_cost_per_week", _("Direct cost per week"), cur),
        _money("indirect_cost_per_week", _("Indirect cost per week"), cur),
        Column("working_weeks_per_year", _("Working weeks per year"), Kind.integer, 10),
        _money("status_quo_cost_per_year", _("Cost of the status quo per year"), cur),
        _percent("guessed_share", _("Resting on guesses")),
        Column("kpi_name", _("KPI"), Kind.text, 24),
        Column("kpi_unit", _("Unit"), Kind.text, 10),
        Column("kpi_direction", _("Direction (code)"), Kind.text, 10),
        Column("kpi_baseline", _("Baseline value"), Kind.number),
        Column("kpi_target", _("Target value"), Kind.number),
        Column("solution_what", _("Solution"), Kind.text, 40),
        Column("solution_type", _("Solution type (code)"), Kind.text, 16),
        Column("solution_type_label", _("Solution type"), Kind.text, 20),
        Column("expected_effect", _("Expected effect"), Kind.text, 30),
        Column("effort_days", _("Effort in person-days"), Kind.number),
        _money("one_off_cost", _("One-off cost"), cur),
        _money("running_cost_per_month", _("Running cost per month"), cur),
        Column("prototype_start", _("Prototype start"), Kind.date, 12),
        Column("prototype_target", _("Target date"), Kind.date, 12),
        Column("measurement_count", _("Measurements"), Kind.integer, 12),
        Column("last_measured_on", _("Latest measurement"), Kind.date, 12),
        Column("kpi_current", _("KPI now"), Kind.number),
        _percent("kpi_change_percent", _("KPI change")),
        _percent("target_reached_percent", _("Target reached")),
        Column("hours_saved_per_week", _("Hours saved per week"), Kind.number),
        _money("euros_per_year", _("Savings per year"), cur),
        _money("effort_cost", _("Effort"), cur),
        Column("payback_weeks", _("Payback in weeks"), Kind.number),
        Column("decision", _("Decision (code)"), Kind.text, 10),
        Column("decision_label", _("Decision"), Kind.text, 14),
        Column("decision_reason", _("Reason for the decision"), Kind.text, 40),
        Column("lessons_worked", _("What worked"), Kind.text, 40),
        Column("lessons_failed", _("What did not work"), Kind.text, 40),
        Column("lessons_differently", _("What we would do differently"), Kind.text, 40),
        *effect_columns.columns(cur),
    ]

    def rows() -> Iterator[list[Any]]:
        items = _items_by_cycle(session)
        for cycle, owner, measurement, total, sponsor in _stream(
            session, _with_latest_measurement(query or TableQuery())
        ):
            case = compute(
                cycle,
                [measurement] if measurement is not None else [],
                org.default_hourly_rate,
                org.working_weeks_per_year,
            )
            # The items read above, so the status quo's cost needs no query per cycle.
            set_committed_value(cycle, "indirect_cost_items", items.get(cycle.id, []))
            status_quo = status_quo_cost(cycle, org.default_hourly_rate, org.working_weeks_per_year)
            values = {
                "id": cycle.id,
                "title": cycle.title,
                "category": _code(cycle.category),
                "category_label": _label(CATEGORY_LABELS, cycle.category),
                "stage": _code(cycle.stage),
                "stage_label": _label(STAGE_LABELS, cycle.stage),
                "owner": owner,
                "sponsor": sponsor,
                "why": cycle.why or None,
                "previous_cycle_id": cycle.previous_cycle_id,
                "created_at": local(cycle.created_at),
                "updated_at": local(cycle.updated_at),
                "baseline_at": local(cycle.baseline_at),
                "solution_at": local(cycle.solution_at),
                "prototype_at": local(cycle.prototype_at),
                "result_at": local(cycle.result_at),
                "decided_at": local(cycle.decided_at),
                "hours_per_week": cycle.hours_per_week,
                "direct_cost_per_week": cycle.direct_cost_per_week,
                "indirect_cost_per_week": cycle.indirect_cost_per_week,
                "working_weeks_per_year": org.working_weeks_per_year,
                "status_quo_cost_per_year": status_quo.total if status_quo is not None else None,
                "guessed_share": status_quo.guessed_share if status_quo is not None else None,
                "kpi_name": cycle.kpi_name,
                "kpi_unit": cycle.kpi_unit,
                "kpi_direction": _code(cycle.kpi_direction),
                "kpi_baseline": cycle.kpi_baseline,
                "kpi_target": cycle.kpi_target,
                "solution_what": cycle.solution_what,
                "solution_type": _code(cycle.solution_type),
                "solution_type_label": _label(SOLUTION_TYPE_LABELS, cycle.solution_type),
                "expected_effect": cycle.expected_effect,
                "effort_days": cycle.effort_days,
                "one_off_cost": cycle.one_off_cost,
                "running_cost_per_month": cycle.running_cost_per_month,
                "prototype_start": cycle.prototype_start,
                "prototype_target": cycle.prototype_target,
                "measurement_count": total or 0,
                "last_measured_on": measurement.measured_on if measurement is not None else None,
                "kpi_current": case.kpi_current,
                "kpi_change_percent": case.kpi_change_percent,
                "target_reached_percent": case.target_reached_percent,
                "hours_saved_per_week": case.hours_saved_per_week,
                "euros_per_year": case.euros_per_year,
                # Without any effort entered the page says "missing", not 0.
                "effort_cost": case.effort_cost if cycle.effort_days is not None or cycle.one_off_cost else None,
                "payback_weeks": case.payback_weeks,
                "decision": _code(cycle.decision),
                "decision_label": _label(DECISION_LABELS, cycle.decision),
                "decision_reason": cycle.decision_reason,
                "lessons_worked": cycle.lessons_worked,
                "lessons_failed": cycle.lessons_failed,
                "lessons_differently": cycle.lessons_differently,
                **effect_columns.values(cycle, measurement, case, org),
            }
            yield [values[column.key] for column in columns]

    return Sheet("cycles", _("Cycles"), columns, rows())


def measurements(session: AnySession, org: Organization, query: TableQuery | None = None) -> Sheet:
    """One row per measurement with its cycle, cycles in the table's order, each cycle's by date."""
    query = query or TableQuery()
    columns = [
        Column("cycle_id", _("Cycle (ID)"), Kind.integer, 10),
        Column("cycle_title", _("Cycle"), Kind.text, 40),
        Column("id", _("Measurement (ID)"), Kind.integer, 12),
        Column("measured_on", _("Date"), Kind.date, 12),
        Column("kpi_name", _("KPI"), Kind.text, 24),
        Column("kpi_unit", _("Unit"), Kind.text, 10),
        Column("kpi_value", _("KPI value"), Kind.number),
        Column("hours_per_week", _("Hours per week"), Kind.number),
        _money("cost_per_week", _("Cost per week"), org.currency),
        Column("note", _("Note"), Kind.text, 40),
        Column("created_by", _("Entered by"), Kind.text, 22),
        Column("created_at", _("Entered on"), Kind.datetime, 18),
    ]
    stmt = (
        select(Measurement, Cycle.title, Cycle.kpi_name, Cycle.kpi_unit, User.name)
        .join(Cycle, Cycle.id == Measurement.cycle_id)
        .outerjoin(User, User.id == Measurement.created_by_id)
    )
    stmt = query.order(query.filter(stmt)).order_by(Measurement.measured_on, Measurement.id)

    def rows() -> Iterator[list[Any]]:
        for measurement, title, kpi_name, kpi_unit, author in _stream(session, stmt):
            yield [
                measurement.cycle_id,
                title,
                measurement.id,
                measurement.measured_on,
                kpi_name,
                kpi_unit,
                measurement.kpi_value,
                measurement.hours_per_week,
                measurement.cost_per_week,
                measurement.note or None,
                author,
                local(measurement.created_at),
            ]

    return Sheet("measurements", _("Measurements"), columns, rows())


def business_cases(session: AnySession, org: Organization, query: TableQuery | None = None) -> Sheet:
    """One row per cycle: the business case's inputs and every figure the cycle page shows, as numbers."""
    cur = org.currency
    columns = [
        Column("cycle_id", _("Cycle (ID)"), Kind.integer, 10),
        Column("title", _("Title"), Kind.text, 40),
        Column("stage", _("Stage (code)"), Kind.text, 12),
        Column("stage_label", _("Stage"), Kind.text, 14),
        Column("kpi_name", _("KPI"), Kind.text, 24),
        Column("kpi_unit", _("Unit"), Kind.text, 10),
        Column("kpi_direction", _("Direction"), Kind.text, 18),
        Column("kpi_baseline", _("Baseline value"), Kind.number),
        Column("kpi_target", _("Target value"), Kind.number),
        Column("last_measured_on", _("Latest measurement"), Kind.date, 12),
        Column("kpi_current", _("KPI now"), Kind.number),
        _percent("kpi_change_percent", _("KPI change")),
        _percent("target_reached_percent", _("Target reached")),
        Column("hours_before", _("Hours per week before"), Kind.number),
        Column("hours_now", _("Hours per week now"), Kind.number),
        Column("hours_saved_per_week", _("Hours saved per week"), Kind.number),
        _money("hourly_rate", _("Hourly rate"), cur),
        _money("cost_before", _("Cost per week before"), cur),
        _money("cost_now", _("Cost per week now"), cur),
        _money("cost_saved_per_week", _("Cost saved per week"), cur),
        _money("running_cost_per_year", _("Running cost per year"), cur),
        _money("euros_per_year", _("Savings per year"), cur),
        Column("effort_days", _("Effort in person-days"), Kind.number),
        _money("one_off_cost", _("One-off cost"), cur),
        _money("effort_cost", _("Effort"), cur),
        Column("payback_weeks", _("Payback in weeks"), Kind.number),
        *effect_columns.columns(cur),
    ]
    rate = org.default_hourly_rate

    def rows() -> Iterator[list[Any]]:
        for cycle, _owner, measurement, _total, _sponsor in _stream(
            session, _with_latest_measurement(query or TableQuery())
        ):
            case = compute(cycle, [measurement] if measurement is not None else [], rate, org.working_weeks_per_year)
            measured = measurement is not None
            cost_before = None
            if cycle.direct_cost_per_week is not None or cycle.indirect_cost_per_week is not None:
                cost_before = Decimal(cycle.direct_cost_per_week or 0) + Decimal(cycle.indirect_cost_per_week or 0)
            yield [
                cycle.id,
                cycle.title,
                _code(cycle.stage),
                _label(STAGE_LABELS, cycle.stage),
                cycle.kpi_name,
                cycle.kpi_unit,
                _label(DIRECTION_LABELS, cycle.kpi_direction),
                cycle.kpi_baseline,
                cycle.kpi_target,
                measurement.measured_on if measured else None,
                case.kpi_current,
                case.kpi_change_percent,
                case.target_reached_percent,
                cycle.hours_per_week,
                measurement.hours_per_week if measured else None,
                case.hours_saved_per_week,
                rate,
                cost_before,
                measurement.cost_per_week if measured else None,
                case.cost_saved_per_week if measured and measurement.cost_per_week is not None else None,
                case.running_cost_per_year if cycle.running_cost_per_month is not None else None,
                case.euros_per_year,
                cycle.effort_days,
                cycle.one_off_cost,
                case.effort_cost if cycle.effort_days is not None or cycle.one_off_cost else None,
                case.payback_weeks,
                *effect_columns.values(cycle, measurement, case, org).values(),
            ]

    return Sheet("business-cases", _("Business cases"), columns, rows())


def indirect_costs_sheet(session: AnySession, org: Organization, query: TableQuery | None = None) -> Sheet:
    """One row per indirect cost item with its cycle, cycles in the table's order, each cycle's in its order:
    the kind's numbers, the period, the cost per year by the organization's rate and working weeks, and where
    the number comes from."""
    query = query or TableQuery()
    cur = org.currency
    rate, weeks = org.default_hourly_rate, org.working_weeks_per_year
    columns = [
        Column("cycle_id", _("Cycle (ID)"), Kind.integer, 10),
        Column("cycle_title", _("Cycle"), Kind.text, 40),
        Column("id", _("Item (ID)"), Kind.integer, 10),
        Column("label", _("What it is"), Kind.text, 30),
        Column("kind", _("Kind (code)"), Kind.text, 12),
        Column("kind_label", _("Kind"), Kind.text, 18),
        Column("quantity", _("Quantity"), Kind.number),
        _money("unit_value", _("Amount per unit"), cur),
        Column("people_affected", _("People affected"), Kind.integer, 10),
        Column("period", _("Period (code)"), Kind.text, 10),
        Column("period_label", _("Counted per"), Kind.text, 12),
        Column("working_weeks_per_year", _("Working weeks per year"), Kind.integer, 10),
        _money("hourly_rate", _("Hourly rate"), cur),
        _money("cost_per_year", _("Cost per year"), cur),
        Column("source", _("Source (code)"), Kind.text, 12),
        Column("source_label", _("Source"), Kind.text, 14),
        Column("source_note", _("Where the number comes from"), Kind.text, 30),
        Column("created_at", _("Entered on"), Kind.datetime, 18),
    ]
    stmt = select(IndirectCostItem, Cycle.title).join(Cycle, Cycle.id == IndirectCostItem.cycle_id)
    stmt = query.order(query.filter(stmt)).order_by(IndirectCostItem.position, IndirectCostItem.id)

    def rows() -> Iterator[list[Any]]:
        for item, title in _stream(session, stmt):
            cost = indirect_costs.item_cost(item, rate, weeks)
            values = {
                "cycle_id": item.cycle_id,
                "cycle_title": title,
                "id": item.id,
                "label": item.label or None,
                "kind": _code(item.kind),
                "kind_label": _label(indirect_costs.KIND_LABELS, item.kind),
                "quantity": item.quantity,
                "unit_value": item.unit_value,
                "people_affected": item.people_affected,
                "period": _code(item.period),
                "period_label": _label(indirect_costs.PERIOD_LABELS, item.period),
                "working_weeks_per_year": weeks,
                "hourly_rate": rate,
                "cost_per_year": cost.per_year,
                "source": _code(item.source),
                "source_label": _label(indirect_costs.SOURCE_LABELS, item.source),
                "source_note": item.source_note or None,
                "created_at": local(item.created_at),
            }
            yield [values[column.key] for column in columns]

    return Sheet("indirect-costs", _("Indirect costs"), columns, rows())


SHEETS: dict[str, Callable[[AnySession, Organization, TableQuery | None], Sheet]] = {
    "cycles": cycles,
    "measurements": measurements,
    "business-cases": business_cases,
    "indirect-costs": indirect_costs_sheet,
}
