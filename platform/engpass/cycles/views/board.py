"""The board (one column per stage) and the filtered, sorted, paged table of cycles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from engpass.accounts.models import User
from engpass.cycles import service
from engpass.cycles.models import STAGE_ORDER, Cycle, Stage
from engpass.cycles.table_query import TableQuery
from engpass.cycles.templates import CATEGORY_LABELS
from engpass.cycles.views.common import Flag, bp, flags_of, member_choices, org_today
from engpass.db import db
from engpass.organizations.permissions import Action, require_permission

PAGE_SIZE = 25
BOARD_DECIDED_LIMIT = 8
SORT_LABELS = {"updated": _l("Last change"), "created": _l("Created"), "title": _l("Title"), "stage": _l("Stage")}


@dataclass
class CycleRow:
    cycle: Cycle
    owner_name: str | None
    sponsor_name: str | None
    measurement_count: int
    flags: list[Flag] = field(default_factory=list)


def _rows(stmt: Select[Any], today: date) -> tuple[list[CycleRow], list[Any]]:
    """Cycles with their owners and sponsors (one query) and their measurement counts (one more); also the raw rows."""
    result = db.session.execute(stmt).all()
    counts = service.measurement_counts(db.session(), [row[0].id for row in result])
    rows = []
    for row in result:
        cycle, owner_name, sponsor_name = row[0], row[1], row[2]
        count = counts.get(cycle.id, 0)
        rows.append(CycleRow(cycle, owner_name, sponsor_name, count, flags_of(cycle, count, today)))
    return rows, result


def _with_owner() -> Select[Any]:
    """Cycles with the names of the person responsible and of the sponsor."""
    sponsor = aliased(User)
    return (
        select(Cycle, User.name, sponsor.name)
        .outerjoin(User, User.id == Cycle.owner_id)
        .outerjoin(sponsor, sponsor.id == Cycle.sponsor_id)
    )


@bp.route("/")
@require_permission(Action.view_cycles)
def board() -> str:
    today = org_today()
    rows, _result = _rows(_with_owner().order_by(Cycle.updated_at.desc(), Cycle.id.desc()), today)
    columns: dict[Stage, list[CycleRow]] = {stage: [] for stage in STAGE_ORDER}
    for row in rows:
        columns[row.cycle.stage].append(row)
    decided_total = len(columns[Stage.decided])
    columns[Stage.decided] = columns[Stage.decided][:BOARD_DECIDED_LIMIT]
    open_rows = [row for row in rows if row.cycle.is_open]
    return render_template(
        "cycles/board.html",
        columns=columns,
        total=len(rows),
        open_rows=open_rows,
        decided_total=decided_total,
        decided_hidden=decided_total - len(columns[Stage.decided]),
    )


@bp.route("/table")
@require_permission(Action.view_cycles)
def table() -> str:
    query = TableQuery.from_args(request.args)
    stmt = query.filter(_with_owner().add_columns(func.count().over().label("total")))
    stmt = query.order(stmt).limit(PAGE_SIZE).offset((query.page - 1) * PAGE_SIZE)
    today = org_today()
    result_rows, raw = _rows(stmt, today)
    # The window count rides along with every row: no second query for the pager.
    total = raw[0].total if raw else 0
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template(
        "cycles/table.html",
        rows=result_rows,
        query=query,
        total=total,
        pages=pages,
        members=member_choices(),
        categories=CATEGORY_LABELS,
        sort_labels=SORT_LABELS,
    )
