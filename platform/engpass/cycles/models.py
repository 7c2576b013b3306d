"""Improvement cycles: one bottleneck, its numbers, the simplest solution, the proof, the decision."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engpass.db import Base, string_enum, utcnow
from engpass.tenancy import TenantScoped


class Stage(enum.StrEnum):
    bottleneck = "bottleneck"
    baseline = "baseline"
    solution = "solution"
    prototype = "prototype"
    result = "result"
    decided = "decided"


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)


class Category(enum.StrEnum):
    leads = "leads"
    quoting = "quoting"
    order_errors = "order_errors"
    reporting = "reporting"
    support = "support"
    other = "other"


class KpiDirection(enum.StrEnum):
    higher = "higher"
    lower = "lower"


class Period(enum.StrEnum):
    """What span a figure counts per: the KPI ("orders per month") and an indirect cost item's quantity
    ("one penalty a year"); it makes their money yearly."""

    week = "week"
    month = "month"
    year = "year"

    def per_year(self, weeks_per_year: int) -> int:
        """How many of this span a year has; a week counts the organization's working weeks."""
        return {Period.week: weeks_per_year, Period.month: 12, Period.year: 1}[self]


class SolutionType(enum.StrEnum):
    email_automation = "email_automation"
    lead_scoring = "lead_scoring"
    automated_report = "automated_report"
    assistant = "assistant"
    other = "other"


class Decision(enum.StrEnum):
    scale = "scale"
    iterate = "iterate"
    drop = "drop"


class IndirectKind(enum.StrEnum):
    """What an indirect cost is; each kind has its own formula (cycles/indirect_costs.py)."""

    errors = "errors"
    lost_orders = "lost_orders"
    waiting = "waiting"
    penalties = "penalties"
    other = "other"


class CostSource(enum.StrEnum):
    """Where an indirect cost item's number comes from: the business case shows the share resting on guesses."""

    measured = "measured"
    estimated = "estimated"
    guess = "guess"


MONEY = Numeric(14, 2)
HOURS = Numeric(10, 2)
KPI = Numeric(18, 4)


class Cycle(TenantScoped, Base):
    """One loop of the method. Baseline, solution, prototype and decision live on the row:
    a cycle page needs all of them at once, and each exists at most once per cycle."""

    __tablename__ = "cycles"
    __table_args__ = (Index("ix_cycles_org_stage", "organization_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[Category] = mapped_column(string_enum(Category, "cycle_category"))
    why: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[Stage] = mapped_column(string_enum(Stage, "cycle_stage"), default=Stage.bottleneck)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The management's backing: an owner or admin who decides at the end (scale, iterate, drop).
    sponsor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    previous_cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"), index=True)
    # Started while another cycle was still open: the method asks for one bottleneck at a time.
    focus_warning: Mapped[bool] = mapped_column(default=False)

    # When the cycle last entered each stage; cleared for the stages after a step back.
    bottleneck_at: Mapped[datetime] = mapped_column(default=utcnow)
    baseline_at: Mapped[datetime | None]
    solution_at: Mapped[datetime | None]
    prototype_at: Mapped[datetime | None]
    result_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]

    # Ist-Zustand
    hours_per_week: Mapped[Decimal | None] = mapped_column(HOURS)
    direct_cost_per_week: Mapped[Decimal | None] = mapped_column(MONEY)
    indirect_cost_per_week: Mapped[Decimal | None] = mapped_column(MONEY)
    kpi_name: Mapped[str | None] = mapped_column(String(120))
    kpi_unit: Mapped[str | None] = mapped_column(String(40))
    kpi_direction: Mapped[KpiDirection | None] = mapped_column(string_enum(KpiDirection, "kpi_direction"))
    kpi_baseline: Mapped[Decimal | None] = mapped_column(KPI)
    kpi_target: Mapped[Decimal | None] = mapped_column(KPI)
    # An effect that is not hours (docs/business-case.md, "Additional contribution"): what one unit of the
    # KPI is worth, e.g. one more order won = its average contribution margin, and what span it counts per.
    kpi_value_per_unit: Mapped[Decimal | None] = mapped_column(MONEY)
    kpi_period: Mapped[Period | None] = mapped_column(string_enum(Period, "kpi_period"))

    # Lösung
    solution_what: Mapped[str | None] = mapped_column(Text)
    solution_type: Mapped[SolutionType | None] = mapped_column(string_enum(SolutionType, "solution_type"))
    expected_effect: Mapped[str | None] = mapped_column(Text)
    effort_days: Mapped[Decimal | None] = mapped_column(HOURS)
    one_off_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    running_cost_per_month: Mapped[Decimal | None] = mapped_column(MONEY)
    # The team's forecast, stated before the prototype, against which the measured result is held.
    forecast_hours_per_week: Mapped[Decimal | None] = mapped_column(HOURS)
    forecast_kpi: Mapped[Decimal | None] = mapped_column(KPI)
    forecast_cost_per_week: Mapped[Decimal | None] = mapped_column(MONEY)

    # Umsetzung
    prototype_start: Mapped[date | None] = mapped_column(Date)
    prototype_target: Mapped[date | None] = mapped_column(Date)

    # Entscheidung
    decision: Mapped[Decision | None] = mapped_column(string_enum(Decision, "cycle_decision"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # What the decision learned, in the method's three questions.
    lessons_worked: Mapped[str | None] = mapped_column(Text)
    lessons_failed: Mapped[str | None] = mapped_column(Text)
    lessons_differently: Mapped[str | None] = mapped_column(Text)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    steps: Mapped[list[ProcessStep]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="ProcessStep.position", passive_deletes=True
    )
    measurements: Mapped[list[Measurement]] = relationship(
        back_populates="cycle",
        cascade="all, delete-orphan",
        order_by="(Measurement.measured_on, Measurement.id)",
        passive_deletes=True,
    )
    indirect_cost_items: Mapped[list[IndirectCostItem]] = relationship(
        back_populates="cycle",
        cascade="all, delete-orphan",
        order_by="(IndirectCostItem.position, IndirectCostItem.id)",
        passive_deletes=True,
    )

    def stage_index(self) -> int:
        return STAGE_ORDER.index(self.stage)

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.decided


class ProcessStep(TenantScoped, Base):
    """One step of the process as it is today (Ist-Zustand), in order."""

    __tablename__ = "process_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(120), default="")
    minutes: Mapped[int] = mapped_column(default=0)

    cycle: Mapped[Cycle] = relationship(back_populates="steps")


class Measurement(TenantScoped, Base):
    """A measured point of the result: the KPI, and optionally hours and cost per week."""

    __tablename__ = "measurements"
    __table_args__ = (Index("ix_measurements_cycle_date", "cycle_id", "measured_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    measured_on: Mapped[date] = mapped_column(Date)
    kpi_value: Mapped[Decimal] = mapped_column(KPI)
    hours_per_week: Mapped[Decimal | None] = mapped_column(HOURS)
    cost_per_week: Mapped[Decimal | None] = mapped_column(MONEY)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cycle: Mapped[Cycle] = relationship(back_populates="measurements")


class IndirectCostItem(TenantScoped, Base):
    """One part of what the bottleneck costs besides hours and direct cost: errors, lost orders, waiting,
    penalties or another amount, each with where its number comes from. ``Cycle.indirect_cost_per_week`` is
    their sum per year divided by the working weeks, kept in step by ``cycles.indirect_service``."""

    __tablename__ = "indirect_cost_items"
    __table_args__ = (Index("ix_indirect_cost_items_cycle_position", "cycle_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[IndirectKind] = mapped_column(string_enum(IndirectKind, "indirect_kind"))
    # How many per period (errors, lost orders, hours waiting per person, penalties); unused for "other".
    quantity: Mapped[Decimal | None] = mapped_column(HOURS)
    # Money per unit (cost per error, contribution margin per order, amount per penalty, the amount of
    # "other"); unused for waiting, which is valued at the organization's hourly rate.
    unit_value: Mapped[Decimal | None] = mapped_column(MONEY)
    people_affected: Mapped[int | None]  # waiting only
    period: Mapped[Period] = mapped_column(string_enum(Period, "cost_period"))
    source: Mapped[CostSource] = mapped_column(string_enum(CostSource, "cost_source"))
    source_note: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cycle: Mapped[Cycle] = relationship(back_populates="indirect_cost_items")


class StageChange(TenantScoped, Base):
    """The history of stage moves, forwards and back."""

    __tablename__ = "stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[Stage | None] = mapped_column(string_enum(Stage, "from_stage"))
    to_stage: Mapped[Stage] = mapped_column(string_enum(Stage, "to_stage"))
    backwards: Mapped[bool] = mapped_column(default=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CycleTemplate(TenantScoped, Base):
    """An organization's own suggestion for a category: a KPI and typical simplest solutions."""

    __tablename__ = "cycle_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[Category] = mapped_column(string_enum(Category, "cycle_category"))
    name: Mapped[str] = mapped_column(String(120))
    kpi_name: Mapped[str] = mapped_column(String(120))
    kpi_unit: Mapped[str] = mapped_column(String(40))
    kpi_direction: Mapped[KpiDirection] = mapped_column(string_enum(KpiDirection, "kpi_direction"))
    solutions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Made from a decided cycle (cycles/proven_templates.py): the numbers it measured, kept as they were when
    # the template was made, so the reference stays true when the cycle changes or is deleted.
    source_cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"), index=True)
    source_title: Mapped[str | None] = mapped_column(String(200))
    source_decision: Mapped[Decision | None] = mapped_column(string_enum(Decision, "cycle_decision"))
    baseline_hours_per_week: Mapped[Decimal | None] = mapped_column(HOURS)
    result_hours_per_week: Mapped[Decimal | None] = mapped_column(HOURS)
    kpi_baseline: Mapped[Decimal | None] = mapped_column(KPI)
    kpi_result: Mapped[Decimal | None] = mapped_column(KPI)
    kpi_change_percent: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    savings_per_year: Mapped[Decimal | None] = mapped_column(MONEY)
    lessons: Mapped[str | None] = mapped_column(Text)

    @property
    def proven(self) -> bool:
        return self.source_title is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category.value,
            "name": self.name,
            "kpi_name": self.kpi_name,
            "kpi_unit": self.kpi_unit,
            "kpi_direction": self.kpi_direction.value,
            "solutions": list(self.solutions),
        }
