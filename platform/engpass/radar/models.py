"""The radar's current findings per organization, written by the workers (``radar.service.recompute``)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engpass.db import Base, string_enum, utcnow
from engpass.tenancy import TenantScoped


class Pattern(enum.StrEnum):
    """The method's three ways companies fail."""

    tool_first = "tool_first"
    isolated_pilot = "isolated_pilot"
    lone_expert = "lone_expert"


class RadarRule(enum.StrEnum):
    """Each rule of docs/radar.md; stored, so at most 20 characters."""

    running_cost = "running_cost"
    low_adoption = "low_adoption"
    scaled_unmeasured = "scaled_unmeasured"
    no_rollout = "no_rollout"
    target_met_undecided = "target_met_undecided"
    no_sponsor = "no_sponsor"
    one_owner = "one_owner"
    stuck_iterations = "stuck_iterations"


class RadarFinding(TenantScoped, Base):
    """A rule that applies now; gone as soon as a recompute finds it no longer applies.

    ``key`` is the rule and its cycle (or the organization), so a finding that stays keeps its
    ``opened_on`` across recomputes."""

    __tablename__ = "radar_findings"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    pattern: Mapped[Pattern] = mapped_column(string_enum(Pattern, "radar_pattern"))
    rule: Mapped[RadarRule] = mapped_column(string_enum(RadarRule, "radar_rule"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    # The person an organization-wide finding is about; their name is read when shown, never stored here.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # What triggered it: amounts as decimal strings, counts and days as integers (docs/radar.md).
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened_on: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
