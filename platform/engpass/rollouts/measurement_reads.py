"""Bounded reads of a rollout's measurements for the cycle page: the latest few, one page of them all, and the
rows the business case at scale reads — each one query that loads only the rows it returns."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, ScalarSelect, and_, func, or_, select
from sqlalchemy.orm import Session

from engpass.cycles.measurement_reads import PAGE_SIZE, paged
from engpass.cycles.models import Cycle
from engpass.paging import Page
from engpass.rollouts.checkpoints import CHECKPOINT_DAYS, WINDOW_DAYS, has_effect_clause
from engpass.rollouts.models import Rollout, RolloutMeasurement

# The rollout panel's table, like the cycle's: the recent re-measurements; the rest is a link away.
LATEST_SHOWN = 20

_NEWEST_FIRST = (RolloutMeasurement.measured_on.desc(), RolloutMeasurement.id.desc())


def rollout_alone(session: Session, cycle: Cycle) -> Rollout | None:
    """The cycle's rollout without its measurements (``service.rollout_of`` loads them all)."""
    return session.scalar(select(Rollout).where(Rollout.cycle_id == cycle.id))


def count(session: Session, rollout: Rollout) -> int:
    stmt = select(func.count(RolloutMeasurement.id)).where(RolloutMeasurement.rollout_id == rollout.id)
    return session.scalar(stmt) or 0


def latest(session: Session, rollout: Rollout, limit: int = LATEST_SHOWN) -> list[RolloutMeasurement]:
    """The rollout's ``limit`` latest measurements, newest first."""
    stmt = (
        select(RolloutMeasurement)
        .where(RolloutMeasurement.rollout_id == rollout.id)
        .order_by(*_NEWEST_FIRST)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def page(
    session: Session, rollout: Rollout, number: int, total: int, size: int = PAGE_SIZE
) -> Page[RolloutMeasurement]:
    """Page ``number`` of the rollout's ``total`` measurements, newest first."""
    stmt = select(RolloutMeasurement).where(RolloutMeasurement.rollout_id == rollout.id).order_by(*_NEWEST_FIRST)
    return paged(session, stmt, number, total, size)


def figure_rows(session: Session, rollout: Rollout) -> list[RolloutMeasurement]:
    """What ``figures.scale_case`` reads of all the rollout's measurements, and no more: the latest with the
    number reached (adoption), the latest with an effect (the saving at scale) and those with an effect inside
    a checkpoint's window (which one meets it). ``scale_case`` over these gives what it gives over all."""
    mine = RolloutMeasurement.rollout_id == rollout.id

    def latest_id(*where: ColumnElement[bool]) -> ScalarSelect[int]:
        return select(RolloutMeasurement.id).where(mine, *where).order_by(*_NEWEST_FIRST).limit(1).scalar_subquery()

    windows = []
    for days in CHECKPOINT_DAYS:
        on = rollout.started_on + timedelta(days=days)
        windows.append(
            RolloutMeasurement.measured_on.between(on - timedelta(days=WINDOW_DAYS), on + timedelta(days=WINDOW_DAYS))
        )
    stmt = (
        select(RolloutMeasurement)
        .where(
            mine,
            or_(
                RolloutMeasurement.id == latest_id(RolloutMeasurement.reached.is_not(None)),
                RolloutMeasurement.id == latest_id(has_effect_clause()),
                and_(has_effect_clause(), or_(*windows)),
            ),
        )
        .order_by(RolloutMeasurement.measured_on, RolloutMeasurement.id)
    )
    return list(session.scalars(stmt))
