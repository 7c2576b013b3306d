"""A decided cycle made into a template of the organization: its category, KPI and solution, with the
numbers it measured — baseline and result hours and KPI, the KPI's change, the yearly saving — and its
lessons, kept as they were, so a new cycle of the category starts from what was proven here.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from engpass.audit.service import record
from engpass.cycles.business_case import compute, latest
from engpass.cycles.models import Cycle, CycleTemplate, KpiDirection, Stage
from engpass.cycles.rules import StageRuleViolation
from engpass.formatting import signed_percent

NAME_MAX = 120
SOLUTION_MAX = 200
# What the column holds (Numeric(12, 2)); a change beyond it (a baseline near 0) is no figure to quote.
PERCENT_BELOW = Decimal(10) ** 10
NOT_DECIDED = _l("Only a decided cycle becomes a template: its numbers are measured and its lessons written down.")


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lessons(cycle: Cycle) -> str:
    return "\n\n".join(
        part.strip() for part in (cycle.lessons_worked, cycle.lessons_failed, cycle.lessons_differently) if part
    )


def make_template(
    session: Session, cycle: Cycle, hourly_rate: Decimal, weeks_per_year: int, actor_id: int | None
) -> CycleTemplate:
    """The template of a decided cycle, audited. Raises StageRuleViolation for an open cycle."""
    if cycle.stage != Stage.decided:
        raise StageRuleViolation([NOT_DECIDED])
    measurements = list(cycle.measurements)
    case = compute(cycle, measurements, hourly_rate, weeks_per_year)
    last = latest(measurements)
    change = case.kpi_change_percent
    template = CycleTemplate(
        category=cycle.category,
        name=_clip(cycle.title, NAME_MAX),
        kpi_name=_clip(cycle.kpi_name or "", NAME_MAX),
        kpi_unit=(cycle.kpi_unit or "")[:40],
        kpi_direction=cycle.kpi_direction or KpiDirection.lower,
        solutions=[_clip(cycle.solution_what, SOLUTION_MAX)] if (cycle.solution_what or "").strip() else [],
        source_cycle_id=cycle.id,
        source_title=cycle.title,
        source_decision=cycle.decision,
        baseline_hours_per_week=cycle.hours_per_week,
        result_hours_per_week=last.hours_per_week if last is not None else None,
        kpi_baseline=cycle.kpi_baseline,
        kpi_result=case.kpi_current,
        kpi_change_percent=change if change is not None and abs(change) < PERCENT_BELOW else None,
        savings_per_year=case.euros_per_year,
        lessons=_lessons(cycle) or None,
    )
    session.add(template)
    session.flush()
    record(
        session,
        "cycle_template.created",
        actor_id=actor_id,
        object_type="cycle_template",
        object_id=template.id,
        name=template.name,
        source_cycle_id=cycle.id,
    )
    return template


def hours_change_percent(template: CycleTemplate) -> Decimal | None:
    """How the hours per week changed from the baseline to the result, in percent."""
    before, after = template.baseline_hours_per_week, template.result_hours_per_week
    if before is None or after is None or Decimal(before) == 0:
        return None
    return ((Decimal(after) - Decimal(before)) / Decimal(before) * 100).quantize(Decimal("1"))


def reference(template: CycleTemplate) -> str | None:
    """The proven effect in one line, for a new cycle of the category: "measured in cycle X: −38 % hours"."""
    if not template.proven:
        return None
    hours = hours_change_percent(template)
    effects = []
    if hours is not None:
        effects.append(_("%(change)s hours", change=signed_percent(hours)))
    if template.kpi_change_percent is not None:
        effects.append(
            _("%(change)s %(kpi)s", change=signed_percent(template.kpi_change_percent), kpi=template.kpi_name)
        )
    if not effects:
        return _("measured in cycle “%(title)s”", title=template.source_title)
    return _("measured in cycle “%(title)s”: %(effects)s", title=template.source_title, effects=", ".join(effects))
