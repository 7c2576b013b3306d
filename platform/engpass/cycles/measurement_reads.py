"""Bounded reads of a cycle's measurements: the latest few for the cycle page, the latest of several cycles
for the API's documents, one page of them all, and the chart's sample. Each is one query that loads only
the rows it returns, however many the cycle has.

The business case needs only the latest measurement (``business_case.latest``), which the latest few hold;
the count comes from ``service.measurement_count``."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from engpass.charts import evenly_spaced
from engpass.cycles.chart import CHART_POINTS
from engpass.cycles.models import Cycle, Measurement
from engpass.paging import Page, clamped, page_count

# The cycle page's table: enough to see the recent course; the rest is a link away.
LATEST_SHOWN = 20
# One page of the list of all measurements.
PAGE_SIZE = 50

Row = TypeVar("Row")

_NEWEST_FIRST = (Measurement.measured_on.desc(), Measurement.id.desc())
_OLDEST_FIRST = (Measurement.measured_on, Measurement.id)


def latest(session: Session, cycle: Cycle, limit: int = LATEST_SHOWN) -> list[Measurement]:
    """The cycle's ``limit`` latest measurements, newest first."""
    stmt = select(Measurement).where(Measurement.cycle_id == cycle.id).order_by(*_NEWEST_FIRST).limit(limit)
    return list(session.scalars(stmt))


def latest_of(session: Session, cycle_ids: list[int]) -> dict[int, tuple[Measurement, int]]:
    """Each of these cycles' latest measurement and count of measurements (cycles without any are left out),
    in one query that loads only the latest rows: the business case and the forecast need no other."""
    if not cycle_ids:
        return {}
    ranked = (
        select(
            Measurement.id,
            func.row_number().over(partition_by=Measurement.cycle_id, order_by=_NEWEST_FIRST).label("rank"),
            func.count().over(partition_by=Measurement.cycle_id).label("total"),
        )
        .where(Measurement.cycle_id.in_(cycle_ids))
        .subquery()
    )
    stmt = select(Measurement, ranked.c.total).join(ranked, ranked.c.id == Measurement.id).where(ranked.c.rank == 1)
    return {measurement.cycle_id: (measurement, total) for measurement, total in session.execute(stmt)}


def paged(session: Session, stmt: Select[tuple[Row]], number: int, total: int, size: int) -> Page[Row]:
    """Page ``number`` (from 1) of ``stmt``'s ``total`` rows; a number past the last page shows the last page,
    so a link kept from before a deletion still lands somewhere."""
    number = clamped(number, total, size)
    rows = list(session.scalars(stmt.limit(size).offset((number - 1) * size)))
    return Page(rows, number, page_count(total, size), total, size)


def page(session: Session, cycle: Cycle, number: int, total: int, size: int = PAGE_SIZE) -> Page[Measurement]:
    """Page ``number`` of the cycle's ``total`` measurements, newest first."""
    stmt = select(Measurement).where(Measurement.cycle_id == cycle.id).order_by(*_NEWEST_FIRST)
    return paged(session, stmt, number, total, size)


def chart_sample(session: Session, cycle: Cycle, total: int, limit: int = CHART_POINTS) -> list[Measurement]:
    """The measurements the KPI chart draws, oldest first: all of them up to ``limit``, else the ones
    ``engpass.charts.downsample`` would keep — evenly spaced by position with the first and the last, plus
    the lowest and the highest KPI value (the earliest of equals) — chosen in the database, so only those
    rows are loaded. ``total`` is the cycle's count of measurements."""
    of_cycle = Measurement.cycle_id == cycle.id
    stmt = select(Measurement).where(of_cycle).order_by(*_OLDEST_FIRST)
    if total > limit:
        # One numbering in the cycle's order; the extremes are each the first of an ordering with LIMIT 1,
        # which PostgreSQL finds in one pass without sorting all the rows (three full sorts did it before).
        numbered = (
            select(Measurement.id, (func.row_number().over(order_by=_OLDEST_FIRST) - 1).label("position"))
            .where(of_cycle)
            .subquery()
        )
        first_of = select(Measurement.id).where(of_cycle).limit(1)
        stmt = stmt.where(
            or_(
                Measurement.id.in_(
                    select(numbered.c.id).where(numbered.c.position.in_(evenly_spaced(total, limit - 2)))
                ),
                Measurement.id == first_of.order_by(Measurement.kpi_value, *_OLDEST_FIRST).scalar_subquery(),
                Measurement.id == first_of.order_by(Measurement.kpi_value.desc(), *_OLDEST_FIRST).scalar_subquery(),
            )
        )
    return list(session.scalars(stmt))
