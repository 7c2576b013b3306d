"""The method's order rules as plain functions: each gate, and its boundary."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from engpass.cycles.models import Category, Cycle, Decision, KpiDirection, SolutionType, Stage
from engpass.cycles.rules import (
    default_target,
    problems_to_enter,
    prototype_overdue,
    prototype_too_long,
)


def _complete(**overrides):
    data = dict(
        title="Angebote dauern 9 Tage",
        category=Category.quoting,
        stage=Stage.bottleneck,
        hours_per_week=Decimal("14"),
        kpi_name="Angebotsdauer",
        kpi_unit="Tage",
        kpi_direction=KpiDirection.lower,
        kpi_baseline=Decimal("9"),
        solution_what="Vorlage + Kalkulationsblatt",
        solution_type=SolutionType.other,
        prototype_start=date(2026, 11, 2),
        decision=Decision.scale,
        decision_reason="Wirkt",
        lessons_worked="Vorlage",
        lessons_failed="Export",
        lessons_differently="Früher messen",
    )
    data.update(overrides)
    return Cycle(**data)


def test_a_complete_cycle_may_enter_every_stage():
    cycle = _complete()
    for stage in Stage:
        assert problems_to_enter(cycle, stage, measurement_count=1) == [], stage


def test_bottleneck_stage_has_no_gate():
    assert problems_to_enter(Cycle(title="", category=None), Stage.bottleneck, 0) == []


def test_no_solution_before_a_quantified_baseline():
    for missing in ("hours_per_week", "kpi_name", "kpi_unit", "kpi_direction", "kpi_baseline"):
        cycle = _complete(**{missing: None})
        assert problems_to_enter(cycle, Stage.baseline, 0) == []
        assert len(problems_to_enter(cycle, Stage.solution, 0)) == 1, missing


def test_blank_kpi_name_is_not_a_kpi():
    assert problems_to_enter(_complete(kpi_name="   "), Stage.solution, 0)


def test_zero_hours_is_a_quantified_baseline():
    assert problems_to_enter(_complete(hours_per_week=Decimal("0")), Stage.solution, 0) == []


def test_no_prototype_before_a_chosen_solution():
    cycle = _complete(solution_what="")
    assert problems_to_enter(cycle, Stage.solution, 0) == []
    assert len(problems_to_enter(cycle, Stage.prototype, 0)) == 1
    assert len(problems_to_enter(_complete(solution_type=None), Stage.prototype, 0)) == 1


def test_no_result_stage_before_the_prototype_started():
    assert len(problems_to_enter(_complete(prototype_start=None), Stage.result, 0)) == 1


def test_no_decision_before_a_measured_result():
    assert len(problems_to_enter(_complete(), Stage.decided, measurement_count=0)) == 1
    assert problems_to_enter(_complete(), Stage.decided, measurement_count=1) == []


def test_decision_needs_a_choice_and_a_reason():
    assert len(problems_to_enter(_complete(decision=None, decision_reason=" "), Stage.decided, 1)) == 2


@pytest.mark.parametrize("blank", ["lessons_worked", "lessons_failed", "lessons_differently"])
def test_every_decision_keeps_its_three_lessons_in_one_message(blank):
    problems = problems_to_enter(_complete(**{blank: " \n"}), Stage.decided, 1)
    assert [str(p) for p in problems] == [
        "Write down what you learned: what worked, what did not, and what you would do differently."
    ]


def test_jumping_ahead_reports_every_missing_step():
    cycle = Cycle(title="Zu wenig Leads", category=Category.leads)
    problems = problems_to_enter(cycle, Stage.decided, 0)
    # hours, KPI definition, KPI baseline, solution, prototype start, measurement, decision, reason, lessons
    assert len(problems) == 9


@pytest.mark.parametrize(
    ("start", "target", "today", "stage", "overdue", "too_long"),
    [
        (date(2026, 11, 2), date(2026, 11, 30), date(2026, 11, 30), Stage.prototype, False, False),
        (date(2026, 11, 2), date(2026, 11, 30), date(2026, 12, 1), Stage.prototype, True, True),
        (date(2026, 11, 2), date(2026, 12, 1), date(2026, 11, 20), Stage.prototype, False, True),
        (date(2026, 11, 2), date(2026, 11, 30), date(2027, 3, 1), Stage.result, False, False),
    ],
)
def test_prototype_flags(start, target, today, stage, overdue, too_long):
    cycle = _complete(prototype_start=start, prototype_target=target, stage=stage)
    assert prototype_overdue(cycle, today) is overdue
    assert prototype_too_long(cycle, today) is too_long


def test_default_target_is_four_weeks_after_start():
    assert default_target(date(2026, 11, 25)) == date(2026, 11, 25) + timedelta(days=28)
