"""Maturity levels and boundaries, from hand-built histories (see docs/maturity.md)."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale

from engpass.cycles.models import Decision, Stage
from engpass.maturity.model import (
    WARNING_FREE_FROM_LEVEL,
    CycleFacts,
    Reason,
    compute,
    focus_score,
    measurement_score,
    proof_score,
    rhythm_score,
    speed_score,
)

TODAY = date(2026, 11, 25)


def good(id_, created, previous=None, *, decision=Decision.scale, prototype_days=16, decided_after=60, **kw):
    """A textbook cycle: named with a reason, quantified, prototype in time, measured, decided."""
    facts = CycleFacts(
        id=id_,
        stage=Stage.decided,
        created_on=created,
        has_why=True,
        focus_warning=False,
        baseline_quantified=True,
        has_target=True,
        prototype_start=created + timedelta(days=14),
        result_on=created + timedelta(days=14 + prototype_days),
        decided_on=created + timedelta(days=decided_after),
        decision=decision,
        measured_savings=True,
        euros_per_year=Decimal("10000"),
        previous_cycle_id=previous,
        hours_saved_per_week=Decimal("3"),
    )
    return replace(facts, **kw)


def open_cycle(id_, created, previous=None, **kw):
    facts = CycleFacts(
        id=id_,
        stage=Stage.bottleneck,
        created_on=created,
        has_why=True,
        focus_warning=False,
        baseline_quantified=False,
        has_target=False,
        prototype_start=None,
        result_on=None,
        decided_on=None,
        decision=None,
        measured_savings=False,
        euros_per_year=None,
        previous_cycle_id=previous,
        hours_saved_per_week=None,
    )
    return replace(facts, **kw)


def chain(n, *, end=TODAY, step=67, **kw):
    """n textbook cycles back to back, ending with an open next bottleneck picked 7 days after the last decision."""
    first = end - timedelta(days=step * n + 7)
    cycles = [good(i + 1, first + timedelta(days=step * i), i or None, **kw) for i in range(n)]
    last_decided = cycles[-1].decided_on
    cycles.append(open_cycle(n + 1, last_decided + timedelta(days=7), n))
    return cycles


def test_level_1_without_cycles_says_what_is_missing():
    m = compute([], TODAY)
    assert m.level == 1
    assert m.scores == {"focus": 0, "measurement": 0, "speed": 0, "proof": 0, "rhythm": 0}
    assert [str(x) for x in m.missing_for_next] == ["1 more cycle proven with measured numbers"]


def test_level_1_boundary_decided_without_measured_savings():
    m = compute([good(1, TODAY - timedelta(days=90), measured_savings=False)], TODAY)
    assert m.level == 1 and m.proven_cycles == 0


def test_level_2_first_proof():
    m = compute([good(1, TODAY - timedelta(days=90))], TODAY)
    assert m.level == 2
    assert m.name == "First proof"
    assert m.savings_per_year == Decimal("10000")


def test_level_3_two_proven_cycles_and_every_dimension_at_50():
    m = compute(chain(2), TODAY)
    assert m.level == 3, (m.scores, m.missing_for_next)
    assert all(score >= 50 for score in m.scores.values())


def test_level_3_boundary_slow_prototypes_keep_level_2():
    cycles = chain(2, prototype_days=29)
    m = compute(cycles, TODAY)
    assert m.scores["speed"] == 0
    assert m.level == 2
    assert "Speed at least 50 (now 0)" in [str(x) for x in m.missing_for_next]


def test_level_3_boundary_at_exactly_50():
    cycles = chain(2)
    cycles[0] = replace(cycles[0], result_on=cycles[0].prototype_start + timedelta(days=29))
    m = compute(cycles, TODAY)
    assert m.scores["speed"] == 50
    assert m.level == 3


def test_level_4_needs_a_scaled_solution():
    assert compute(chain(4), TODAY).level == 4
    m = compute(chain(4, decision=Decision.iterate), TODAY)
    assert m.level == 3
    assert "1 more solution scaled after proof" in [str(x) for x in m.missing_for_next]


def test_level_5_continuous():
    m = compute(chain(6, step=55), TODAY)
    assert m.level == 5, (m.scores, [str(x) for x in m.missing_for_next])
    assert m.missing_for_next == []


def test_level_5_boundary_needs_four_decisions_in_the_last_year():
    m = compute(chain(6, end=TODAY - timedelta(days=200), step=55), TODAY)
    assert m.level == 4
    assert any(
        "decided cycle in the last 12 months" in str(x) or "decided cycles in the last 12 months" in str(x)
        for x in m.missing_for_next
    )


def test_focus_counts_warnings_and_missing_reasons():
    cycles = [
        open_cycle(1, TODAY),
        open_cycle(2, TODAY, focus_warning=True),
        open_cycle(3, TODAY, has_why=False),
        open_cycle(4, TODAY),
    ]
    assert focus_score(cycles) == 50


def test_measurement_gives_new_cycles_a_week():
    fresh = open_cycle(1, TODAY - timedelta(days=6))
    old = open_cycle(2, TODAY - timedelta(days=7))
    assert measurement_score([fresh], TODAY) == 0  # nothing due yet
    assert measurement_score([fresh, old], TODAY) == 0
    quantified = replace(old, baseline_quantified=True, has_target=True)
    assert measurement_score([fresh, quantified], TODAY) == 100


def test_speed_boundary_at_28_days_and_running_prototypes():
    in_time = good(1, TODAY - timedelta(days=90), prototype_days=28)
    late = good(2, TODAY - timedelta(days=90), prototype_days=29)
    assert speed_score([in_time], TODAY) == 100
    assert speed_score([late], TODAY) == 0
    running = replace(
        open_cycle(3, TODAY - timedelta(days=40)), stage=Stage.prototype, prototype_start=TODAY - timedelta(days=28)
    )
    assert speed_score([running], TODAY) == 0  # not yet judged: still inside its four weeks
    overdue = replace(running, prototype_start=TODAY - timedelta(days=29))
    assert speed_score([in_time, overdue], TODAY) == 50


def test_proof_is_the_share_of_decided_cycles_with_measured_savings():
    a = good(1, TODAY - timedelta(days=200))
    b = good(2, TODAY - timedelta(days=100), measured_savings=False)
    assert proof_score([a, b, open_cycle(3, TODAY)]) == 50


@pytest.mark.parametrize(("gap", "expected_cadence"), [(14, 100), (15, 0)])
def test_rhythm_next_bottleneck_within_two_weeks(gap, expected_cadence):
    decided = good(1, TODAY - timedelta(days=200))
    follower = open_cycle(2, decided.decided_on + timedelta(days=gap), 1)
    pace = 25  # one decision in the last year out of four
    assert rhythm_score([decided, follower], TODAY) == round((expected_cadence + pace) / 2)


def test_rhythm_waits_two_weeks_before_counting_a_missing_next_bottleneck():
    just_decided = good(1, TODAY - timedelta(days=70), decided_after=60)  # decided 10 days ago
    assert rhythm_score([just_decided], TODAY) == round((100 + 25) / 2)


@pytest.mark.parametrize(("warnings", "level"), [(0, 5), (1, 3)])
def test_an_open_warning_sign_keeps_the_top_two_levels_out_of_reach(app, warnings, level):
    m = compute(chain(6, step=55), TODAY, open_warnings=warnings)
    assert m.level == level
    assert WARNING_FREE_FROM_LEVEL == 4
    if warnings:
        assert Reason("missing_no_warnings", {"count": 1}) in m.missing_for_next
        with app.test_request_context(), force_locale("de"):
            assert "kein offenes Warnsignal" in " ".join(str(r) for r in m.missing_for_next)
