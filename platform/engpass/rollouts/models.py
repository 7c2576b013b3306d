"""A rollout: what a "scale" decision sets out to reach, at what cost, and what it reached."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engpass.cycles.models import HOURS, KPI, MONEY
from engpass.db import Base, string_enum, utcnow
from engpass.tenancy import TenantScoped


class Reach(enum.StrEnum):
    """What the rollout counts: the people, sites or processes it should reach."""

    people = "people"
    sites = "sites"
    processes = "processes"


class Rollout(TenantScoped, Base):
    """At most one per cycle: a decided cycle scales once; a second attempt is a new cycle."""

    __tablename__ = "rollouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), unique=True)
    reach: Mapped[Reach] = mapped_column(string_enum(Reach, "rollout_reach"))
    target_description: Mapped[str] = mapped_column(String(300), default="")
    target_count: Mapped[int]
    one_off_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    running_cost_per_month: Mapped[Decimal | None] = mapped_column(MONEY)
    # The 30/60/90-day re-measurements count from the start.
    started_on: Mapped[date] = mapped_column(Date)
    target_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    measurements: Mapped[list[RolloutMeasurement]] = relationship(
        back_populates="rollout", cascade="all, delete-orphan", order_by="RolloutMeasurement.measured_on"
    )


class RolloutMeasurement(TenantScoped, Base):
    """Adoption (how many of the target are reached) and, when measured, the effect at scale in the cycle's
    own figures, so that the prototype's effect and the effect at scale compare like for like."""

    __tablename__ = "rollout_measurements"

    id: Mapped[int] = mapped_column(primary_key=True)
    rollout_id: Mapped[int] = mapped_column(ForeignKey("rollouts.id", ondelete="CASCADE"), index=True)
    measured_on: Mapped[date] = mapped_column(Date)
    reached: Mapped[int | None]
    kpi_value: Mapped[Decimal | None] = mapped_column(KPI)
    hours_per_week: Mapped[Decimal | None] = mapped_column(HOURS)
    cost_per_week: Mapped[Decimal | None] = mapped_column(MONEY)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rollout: Mapped[Rollout] = relationship(back_populates="measurements")
