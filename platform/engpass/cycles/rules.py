"""The method's order rules: problem before solution, numbers before solution, proof before decision.

A cycle's stage is the step it is working on. Entering a stage needs what the steps
before it produce; these functions say what is missing, in the user's language.
Going back is always allowed (and recorded by the service).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from engpass.cycles.models import STAGE_ORDER, Cycle, Stage

PROTOTYPE_WEEKS = 4
PROTOTYPE_LIMIT = timedelta(weeks=PROTOTYPE_WEEKS)


class StageRuleViolation(ValueError):
    """Refused by the method; ``problems`` are user-facing, translated messages."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


# A filled text: some character that is not white space — exactly what str.strip() removes (str.isspace()),
# spelled so that Python and the ECMA-262 regular expressions of JSON Schema read it alike. The API checks
# its non-blank fields and documents them with it.
NOT_BLANK = r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


@dataclass(frozen=True)
class Requirement:
    """One thing a stage needs from the steps before it, and the message when it is missing.

    ``texts`` must hold more than white space, ``values`` must be set, ``measured`` asks for a measurement.
    The names are the cycle's attributes (and the API's fields): the OpenAPI document states these
    requirements from this table (``api/stages.py``).
    """

    message: Any
    texts: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    measured: bool = False

    def met(self, cycle: Cycle, measurement_count: int) -> bool:
        return (
            all((getattr(cycle, name) or "").strip() for name in self.texts)
            and all(getattr(cycle, name) is not None for name in self.values)
            and (measurement_count >= 1 or not self.measured)
        )


BOTTLENECK = (
    Requirement(_l("Name the bottleneck first."), texts=("title",)),
    Requirement(_l("Choose the bottleneck's category."), values=("category",)),
)
# What a quantified Ist-Zustand needs: hours, the KPI and its baseline value.
BASELINE = (
    Requirement(_l("Enter the hours per week the process takes today."), values=("hours_per_week",)),
    Requirement(
        _l("Define the KPI: name, unit and whether higher or lower is better."),
        texts=("kpi_name", "kpi_unit"),
        values=("kpi_direction",),
    ),
    Requirement(_l("Measure the KPI's baseline value."), values=("kpi_baseline",)),
)
SOLUTION = (
    Requirement(
        _l("Choose the simplest solution: what it is and its type."),
        texts=("solution_what",),
        values=("solution_type",),
    ),
)
PROTOTYPE = (Requirement(_l("Start the prototype: set its start date."), values=("prototype_start",)),)
RESULT = (Requirement(_l("Measure the result at least once before deciding."), measured=True),)
DECISION = (
    Requirement(_l("Decide: scale, iterate or drop."), values=("decision",)),
    Requirement(_l("Write down why you decided this way."), texts=("decision_reason",)),
    # Every decision keeps what was learned, so the next cycle and the templates start from it.
    Requirement(
        _l("Write down what you learned: what worked, what did not, and what you would do differently."),
        texts=("lessons_worked", "lessons_failed", "lessons_differently"),
    ),
)

# What entering each stage needs of the one before it; entering a stage needs the gates of every stage
# up to it.
GATES: dict[Stage, tuple[Requirement, ...]] = {
    Stage.baseline: BOTTLENECK,
    # The heart of the method: no solution before the status quo is quantified.
    Stage.solution: BASELINE,
    Stage.prototype: SOLUTION,
    Stage.result: PROTOTYPE,
    Stage.decided: RESULT + DECISION,
}


def requirements_to_enter(target: Stage) -> list[Requirement]:
    """Everything a cycle needs before it may work on ``target``, in the method's order."""
    return [requirement for stage in STAGE_ORDER[1 : STAGE_ORDER.index(target) + 1] for requirement in GATES[stage]]


def _missing(requirements: tuple[Requirement, ...], cycle: Cycle, measurement_count: int = 0) -> list[str]:
    return [r.message for r in requirements if not r.met(cycle, measurement_count)]


def baseline_problems(cycle: Cycle) -> list[str]:
    """What a quantified Ist-Zustand still lacks: hours, the KPI and its baseline value."""
    return _missing(BASELINE, cycle)


def problems_to_enter(cycle: Cycle, target: Stage, measurement_count: int) -> list[str]:
    """Everything missing before ``cycle`` may work on ``target``; empty when it may."""
    return [r.message for r in requirements_to_enter(target) if not r.met(cycle, measurement_count)]


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
