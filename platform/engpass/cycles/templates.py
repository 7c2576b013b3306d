"""Suggestions per category: a KPI and typical simplest solutions. Organizations add their own."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.cycles.models import Category, CycleTemplate, KpiDirection
from engpass.cycles.proven_templates import reference

CATEGORY_LABELS = {
    Category.leads: _l("Leads / lead generation"),
    Category.quoting: _l("Quoting"),
    Category.order_errors: _l("Error rate in order processing"),
    Category.reporting: _l("Reporting"),
    Category.support: _l("Support response time"),
    Category.other: _l("Other"),
}


@dataclass(frozen=True)
class Suggestion:
    category: Category
    name: str
    kpi_name: str
    kpi_unit: str
    kpi_direction: KpiDirection
    solutions: list[str] = field(default_factory=list)
    builtin: bool = True
    # A template made from a decided cycle: what that cycle measured, in one line.
    reference: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "category": self.category.value,
            "name": str(self.name),
            "kpi_name": str(self.kpi_name),
            "kpi_unit": str(self.kpi_unit),
            "kpi_direction": self.kpi_direction.value,
            "solutions": [str(s) for s in self.solutions],
        }


def builtin_suggestions() -> list[Suggestion]:
    """Built per call: the lazy strings resolve in the request's language."""
    return [
        Suggestion(
            Category.leads,
            _l("Leads per week"),
            _l("Leads per week"),
            _l("leads"),
            KpiDirection.higher,
            [_l("Lead scoring"), _l("E-mail follow-up automation"), _l("Web form straight into the CRM")],
        ),
        Suggestion(
            Category.quoting,
            _l("Quote turnaround"),
            _l("Quote turnaround in days"),
            _l("days"),
            KpiDirection.lower,
            [_l("Quote template with a price calculation sheet"), _l("E-mail automation for quote requests")],
        ),
        Suggestion(
            Category.order_errors,
            _l("Order error rate"),
            _l("Error rate in order processing"),
            "%",
            KpiDirection.lower,
            [_l("Checklist and validation in the order form"), _l("Automated plausibility check")],
        ),
        Suggestion(
            Category.reporting,
            _l("Reporting hours"),
            _l("Reporting hours per week"),
            _l("hours"),
            KpiDirection.lower,
            [_l("Automated weekly report"), _l("Dashboard fed from the ERP")],
        ),
        Suggestion(
            Category.support,
            _l("Support response time"),
            _l("Response time in hours"),
            _l("hours"),
            KpiDirection.lower,
            [_l("Answer templates"), _l("Assistant for frequent questions")],
        ),
        Suggestion(Category.other, _l("Custom KPI"), "", "", KpiDirection.lower, []),
    ]


def suggestions_for(session: Session, category: Category | None = None) -> list[Suggestion]:
    """Built-in suggestions followed by the organization's own (tenant-scoped query)."""
    stmt = select(CycleTemplate).order_by(CycleTemplate.category, CycleTemplate.name)
    if category is not None:
        stmt = stmt.where(CycleTemplate.category == category)
    own = [
        Suggestion(
            t.category,
            t.name,
            t.kpi_name,
            t.kpi_unit,
            t.kpi_direction,
            list(t.solutions),
            builtin=False,
            reference=reference(t),
        )
        for t in session.scalars(stmt)
    ]
    builtin = [s for s in builtin_suggestions() if category is None or s.category == category]
    return builtin + own
