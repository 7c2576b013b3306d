"""Bottleneck candidates: what people in the organization propose as the next bottleneck, with rough numbers.

A candidate is a backlog entry, not a cycle: its numbers are guesses that rank the backlog, and the one
picked becomes a cycle whose status quo starts from them (``candidates.service.pick``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engpass.cycles.models import HOURS, MONEY, Category
from engpass.db import Base, string_enum, utcnow
from engpass.tenancy import TenantScoped


class Effort(enum.StrEnum):
    small = "small"
    medium = "medium"
    large = "large"
    unknown = "unknown"


class DataAvailable(enum.StrEnum):
    yes = "yes"
    partly = "partly"
    no = "no"
    unknown = "unknown"


class CandidateStatus(enum.StrEnum):
    open = "open"
    picked = "picked"
    merged = "merged"
    dismissed = "dismissed"


class Candidate(TenantScoped, Base):
    __tablename__ = "bottleneck_candidates"
    # The backlog reads an organization's candidates by status, newest first among equal costs.
    __table_args__ = (Index("ix_bottleneck_candidates_org_status", "organization_id", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[Category] = mapped_column(string_enum(Category, "cycle_category"), default=Category.other)
    # Free text: "Vertrieb, 4 Personen".
    who_feels_it: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # Rough estimates; None is "unknown", never 0.
    hours_per_week: Mapped[Decimal | None] = mapped_column(HOURS)
    cost_per_week: Mapped[Decimal | None] = mapped_column(MONEY)
    effort: Mapped[Effort] = mapped_column(string_enum(Effort, "candidate_effort"), default=Effort.unknown)
    data_available: Mapped[DataAvailable] = mapped_column(
        string_enum(DataAvailable, "candidate_data"), default=DataAvailable.unknown
    )
    status: Mapped[CandidateStatus] = mapped_column(
        string_enum(CandidateStatus, "candidate_status"), default=CandidateStatus.open
    )
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("bottleneck_candidates.id", ondelete="SET NULL"), index=True
    )
    dismissed_reason: Mapped[str | None] = mapped_column(Text)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_open(self) -> bool:
        return self.status == CandidateStatus.open
