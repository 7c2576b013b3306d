"""Precomputed trends: weekly snapshots per organization, written by the workers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Numeric, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engpass.db import Base, utcnow
from engpass.tenancy import TenantScoped


class TrendSnapshot(TenantScoped, Base):
    """An organization's state at the end of one week (Monday ``week_start`` to Sunday)."""

    __tablename__ = "trend_snapshots"
    __table_args__ = (UniqueConstraint("organization_id", "week_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week_start: Mapped[date] = mapped_column(Date)
    level: Mapped[int]
    scores: Mapped[dict[str, int]] = mapped_column(JSON)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    missing: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    proven_cycles: Mapped[int]
    hours_saved_per_week: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    euros_per_year: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    cycles_per_stage: Mapped[dict[str, int]] = mapped_column(JSON)
    median_lead_time_days: Mapped[Decimal | None] = mapped_column(Numeric(8, 1))
    median_prototype_days: Mapped[Decimal | None] = mapped_column(Numeric(8, 1))
    proven_share: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrendState(TenantScoped, Base):
    """One row per organization: how often its cycles changed, and which change the snapshots reflect.

    A burst of edits bumps ``version`` many times; the first recompute that runs after the
    burst catches up to the latest version and the tasks queued behind it find nothing to do.
    ``dirty_since`` is the earliest day the pending changes can affect, so that recompute rewrites
    only the weeks from then on; NULL while behind means every week.
    """

    __tablename__ = "trend_states"
    __table_args__ = (UniqueConstraint("organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    computed_version: Mapped[int] = mapped_column(default=0)
    computed_at: Mapped[datetime | None]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    dirty_since: Mapped[date | None] = mapped_column(Date)
    # What a consultancy's portfolio shows of this organization, written with the snapshots
    # (``trends.portfolio.summary``); consultants with active access may read it (row-level security).
    portfolio: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The organization's part of the digest about the week that last ended, written with the snapshots
    # (``digest.content.OrgWeek.as_document``): the digest reads it instead of the week's rows while no change
    # came after it.
    digest: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class TrendSchedule(Base):
    """The day an organization's trends next need a recompute with no change made: the next week's Monday, or
    an earlier day on which a radar rule counted in days may start or stop applying; a change makes it today.

    Not tenant-owned, on purpose: the nightly run picks the organizations due in one query across all of them,
    which row-level security would not let it do on ``trend_states``. It holds a day and nothing of the data.
    No row: never computed, due now.
    """

    __tablename__ = "trend_schedules"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
