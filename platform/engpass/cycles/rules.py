"""The method's order rules: problem before solution, numbers before solution, proof before decision.

A cycle's stage is the step it is working on. Entering a stage needs what the steps
before it produce; these functions say what is missing, in the user's language.
Going back is always allowed (and recorded by the service).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

from engpass.cycles.models import STAGE_ORDER, Cycle, Stage

PROTOTYPE_WEEKS = 4
PROTOTYPE_LIMIT = timedelta(weeks=PROTOTYPE_WEEKS)


class StageRuleViolation(ValueError):
    """Refused by the method; ``problems`` are user-facing, translated messages."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def bottleneck_problems(cycle: Cycle) -> list[str]:
    problems = []
    if not (cycle.title or "").strip():
        problems.append(_l("Name the bottleneck first."))
    if cycle.category is None:
        problems.append(_l("Choose the bottleneck's category."))
    return problems


def baseline_problems(cycle: Cycle) -> list[str]:
    """What a quantified Ist-Zustand still lacks: hours, the KPI and its baseline value."""
    problems = []
    if cycle.hours_per_week is None:
        problems.append(_l("Enter the hours per week the process takes today."))
    if not (cycle.kpi_name or "").strip() or not (cycle.kpi_unit or "").strip() or cycle.kpi_direction is None:
        problems.append(_l("Define the KPI: name, unit and whether higher or lower is better."))
    if cycle.kpi_baseline is None:
        problems.append(_l("Measure the KPI's baseline value."))
    return problems


def solution_problems(cycle: Cycle) -> list[str]:
    problems = []
    if not (cycle.solution_what or "").strip() or cycle.solution_type is None:
        problems.append(_l("Choose the simplest solution: what it is and its type."))
    return problems


def prototype_problems(cycle: Cycle) -> list[str]:
    if cycle.prototype_start is None:
        return [_l("Start the prototype: set its start date.")]
    return []


def result_problems(measurement_count: int) -> list[str]:
    if measurement_count < 1:
        return [_l("Measure the result at least once before deciding.")]
    return []


def decision_problems(cycle: Cycle) -> list[str]:
    problems = []
    if cycle.decision is None:
        problems.append(_l("Decide: scale, iterate or drop."))
    if not (cycle.decision_reason or "").strip():
        problems.append(_l("Write down why you decided this way."))
    return problems


def problems_to_enter(cycle: Cycle, target: Stage, measurement_count: int) -> list[str]:
    """Everything missing before ``cycle`` may work on ``target``; empty when it may."""
    gates = {
        Stage.baseline: lambda: bottleneck_problems(cycle),
        # The heart of the method: no solution before the status quo is quantified.
        Stage.solution: lambda: baseline_problems(cycle),
        Stage.prototype: lambda: solution_problems(cycle),
        Stage.result: lambda: prototype_problems(cycle),
        Stage.decided: lambda: result_problems(measurement_count) + decision_problems(cycle),
    }
    problems: list[str] = []
    for stage in STAGE_ORDER[1 : STAGE_ORDER.index(target) + 1]:
        problems.extend(gates[stage]())
    return problems


def prototype_overdue(cycle: Cycle, today: date) -> bool:
    """A running prototype past its target date."""
    return cycle.stage == Stage.prototype and cycle.prototype_target is not None and today > cycle.prototype_target


def prototype_too_long(cycle: Cycle, today: date) -> bool:
    """Planned or running for more than four weeks: the method wants a prototype in 2–4 weeks."""
    if cycle.prototype_start is None:
        return False
    if cycle.prototype_target is not None and cycle.prototype_target - cycle.prototype_start > PROTOTYPE_LIMIT:
        return True
    return cycle.stage == Stage.prototype and today - cycle.prototype_start > PROTOTYPE_LIMIT


def default_target(start: date) -> date:
    return start + PROTOTYPE_LIMIT
