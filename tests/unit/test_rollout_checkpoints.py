"""The 30/60/90-day re-measurements at their edges, and "sustained" at exactly the threshold and just below."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale

from engpass.cycles.business_case import compute
from engpass.cycles.models import Cycle, KpiDirection, Measurement
from engpass.rollouts import checkpoints
from engpass.rollouts.checkpoints import State
from engpass.rollouts.figures import SUSTAINED_MIN_PERCENT, adoption, scale_case, side_by_side, sustained_text
from engpass.rollouts.models import Reach, Rollout, RolloutMeasurement

START = date(2026, 9, 1)


def _on(days: int) -> date:
    return START + timedelta(days=days)


def _m(days: int, *, kpi=None, hours=None, reached=None, cost=None) -> RolloutMeasurement:
    return RolloutMeasurement(
        measured_on=_on(days),
        kpi_value=None if kpi is None else Decimal(kpi),
        hours_per_week=None if hours is None else Decimal(hours),
        cost_per_week=None if cost is None else Decimal(cost),
        reached=reached,
        note="",
    )


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (22, State.upcoming),  # the window opens 7 days before the day
        (23, State.open),
        (29, State.open),
        (30, State.due),  # due on its day
        (37, State.due),  # the window's last day
        (38, State.missed),
    ],
)
def test_the_30_day_checkpoint_by_the_day(today, state):
    assert checkpoints.checkpoint(START, 30, [], _on(today)).state == state


@pytest.mark.parametrize(("measured", "met"), [(22, False), (23, True), (30, True), (37, True), (38, False)])
def test_a_measurement_meets_the_checkpoint_within_a_week_either_side(measured, met):
    found = checkpoints.checkpoint(START, 30, [_m(measured, kpi="5")], _on(40))
    assert (found.state == State.met) is met


def test_adoption_alone_meets_no_checkpoint():
    found = checkpoints.checkpoint(START, 30, [_m(30, reached=12)], _on(31))
    assert found.state == State.due


def test_the_reminding_checkpoint_is_the_one_due():
    assert checkpoints.due(START, [], _on(29)) is None
    assert checkpoints.due(START, [], _on(30)).days == 30
    assert checkpoints.due(START, [_m(31, hours="6")], _on(32)) is None
    assert checkpoints.due(START, [_m(31, hours="6")], _on(60)).days == 60


def test_the_closest_measurement_meets_it():
    found = checkpoints.checkpoint(START, 90, [_m(84, kpi="5"), _m(92, kpi="6"), _m(95, kpi="7")], _on(100))
    assert found.measurement.kpi_value == Decimal("6")


def _cycle() -> Cycle:
    return Cycle(
        hours_per_week=Decimal(14),
        kpi_baseline=Decimal(9),
        kpi_direction=KpiDirection.lower,
        effort_days=Decimal(6),
    )


def _rollout(*rows: RolloutMeasurement) -> Rollout:
    return Rollout(
        reach=Reach.people,
        target_count=40,
        started_on=START,
        one_off_cost=Decimal(2600),
        running_cost_per_month=Decimal(100),
        measurements=list(rows),
    )


def _case(cycle: Cycle):
    # The prototype brought the quote from 9 days down to 4: an improvement of 5 days.
    return compute(cycle, [Measurement(measured_on=START, kpi_value=Decimal(4), hours_per_week=Decimal(6))], 65, 52)


@pytest.mark.parametrize(
    ("kpi_at_90", "retained", "sustained"),
    [
        ("5", Decimal("80.0"), True),  # keeps 4 of 5 days: exactly 80 %
        ("5.01", Decimal("79.8"), False),  # just below
        ("4", Decimal("100.0"), True),
        ("10", Decimal("-20.0"), False),  # worse than the baseline
    ],
)
def test_sustained_at_exactly_the_threshold_and_just_below(kpi_at_90, retained, sustained):
    cycle = _cycle()
    rollout = _rollout(_m(90, kpi=kpi_at_90, hours="6"))
    scale = scale_case(cycle, rollout, _case(cycle), Decimal(65), 52, _on(100))
    assert Decimal(80) == SUSTAINED_MIN_PERCENT
    assert scale.retained_percent == retained
    assert scale.sustained is sustained


def test_not_known_without_a_kpi_at_90_days():
    cycle = _cycle()
    scale = scale_case(cycle, _rollout(_m(90, hours="6")), _case(cycle), Decimal(65), 52, _on(100))
    assert scale.sustained is None
    with force_locale("de"):
        assert "80\xa0%" in sustained_text(scale)


def test_the_business_case_at_scale_beside_the_prototype():
    cycle = _cycle()
    rollout = _rollout(_m(10, reached=12), _m(31, reached=30, hours="6", kpi="4"))
    scale = scale_case(cycle, rollout, _case(cycle), Decimal(65), 52, _on(40))
    # 8 h × 65 € × 52 weeks = 27,040 €, less the rollout's 100 € a month: 25,840 €.
    assert scale.prototype_euros_per_year == Decimal("27040.00")
    assert scale.scale_euros_per_year == Decimal("25840.00")
    # 2,600 € ÷ (25,840 € ÷ 52) = 5.2 weeks.
    assert scale.payback_weeks == Decimal("5.2")
    assert (scale.reached, scale.adoption_percent, scale.adoption_bar) == (30, Decimal("75.0"), 75)
    with force_locale("de"):
        rows = {row.key: (row.prototype, row.at_scale.replace("\xa0", " ")) for row in side_by_side(scale, "EUR")}
    assert rows["euros"] == ("27.040\xa0€", "25.840 €")
    assert rows["one_off"][1] == "2.600 €"
    assert rows["per_year"][1] == "1.200 €"


def test_adoption_is_the_latest_reached_over_the_target_and_the_bar_is_bounded():
    rollout = _rollout(_m(5, reached=50), _m(9, kpi="5"))
    assert adoption(rollout, list(rollout.measurements)) == (50, Decimal("125.0"))
    cycle = _cycle()
    assert scale_case(cycle, rollout, _case(cycle), Decimal(65), 52, _on(10)).adoption_bar == 100
