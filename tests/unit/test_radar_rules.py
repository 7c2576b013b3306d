"""The anti-pattern radar's rules, each at its threshold and just beside it (docs/radar.md).

A rule counted in days keeps its deadline day in time and applies from the day after, as the reminders do;
a share or an amount "above" or "under" a threshold does not apply at the threshold itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from engpass.cycles.models import Category, Cycle, Decision, KpiDirection, Measurement, Period, Stage
from engpass.radar import rules
from engpass.radar.models import Pattern, RadarRule
from engpass.radar.rules import Situation, evaluate
from engpass.rollouts.models import Reach, Rollout, RolloutMeasurement

TODAY = date(2026, 11, 25)
# One hour saved a week at 60 € over 48 working weeks: 2,880 € a year, 240 € a month.
RATE, WEEKS = Decimal(60), 48


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


def _ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def _cycle(id: int = 7, **overrides) -> Cycle:
    data = dict(
        id=id,
        title=f"Zyklus {id}",
        category=Category.quoting,
        stage=Stage.bottleneck,
        owner_id=1,
        sponsor_id=2,
        bottleneck_at=_at(_ago(200)),
        hours_per_week=Decimal(14),
        kpi_name="Angebotsdauer",
        kpi_unit="Tage",
        kpi_direction=KpiDirection.lower,
        kpi_baseline=Decimal(9),
        kpi_target=Decimal(4),
    )
    data.update(overrides)
    return Cycle(**data)


def _decided(id: int = 7, decision: Decision = Decision.scale, days_ago: int = 100, **overrides) -> Cycle:
    data = dict(
        stage=Stage.decided, decision=decision, result_at=_at(_ago(days_ago + 20)), decided_at=_at(_ago(days_ago))
    )
    data.update(overrides)
    return _cycle(id, **data)


def _measured(cycle_id: int = 7, days_ago: int = 120, kpi: str = "4", hours: str | None = "13") -> Measurement:
    return Measurement(
        id=cycle_id * 100 + days_ago,
        cycle_id=cycle_id,
        measured_on=_ago(days_ago),
        kpi_value=Decimal(kpi),
        hours_per_week=None if hours is None else Decimal(hours),
    )


def _rollout(cycle_id: int = 7, started_days_ago: int = 40, target: int = 10, **costs) -> Rollout:
    return Rollout(
        id=cycle_id,
        cycle_id=cycle_id,
        reach=Reach.people,
        target_count=target,
        started_on=_ago(started_days_ago),
        measurements=[],
        **costs,
    )


def _adoption(rollout: Rollout, reached: int | None, days_ago: int = 1) -> Rollout:
    rollout.measurements.append(
        RolloutMeasurement(id=len(rollout.measurements) + 1, measured_on=_ago(days_ago), reached=reached)
    )
    return rollout


def _situation(cycles, measurements=(), rollouts=()) -> Situation:
    by_cycle: dict[int, list[Measurement]] = {}
    for m in measurements:
        by_cycle.setdefault(m.cycle_id, []).append(m)
    return Situation(list(cycles), by_cycle, {r.cycle_id: r for r in rollouts}, RATE, WEEKS)


def _rules(situation: Situation, today: date = TODAY) -> list[RadarRule]:
    return [f.rule for f in evaluate(situation, today)]


# --- tool first: running cost above the measured saving -----------------------------------------------


@pytest.mark.parametrize(
    ("cycle_month", "rollout_month", "found"),
    [
        (Decimal("240.00"), None, False),  # exactly the saving: not above it
        (Decimal("240.01"), None, True),
        (Decimal("200.00"), Decimal("40.00"), False),  # the rollout's running cost counts once scaled
        (Decimal("200.00"), Decimal("40.01"), True),
    ],
)
def test_running_cost_above_the_measured_saving(cycle_month, rollout_month, found):
    cycle = _decided(running_cost_per_month=cycle_month)
    rollouts = [_rollout(running_cost_per_month=rollout_month)] if rollout_month is not None else []
    finding = rules.running_cost(cycle, _situation([cycle], [_measured()], rollouts))
    assert (finding is not None) == found
    if found:
        assert finding.pattern == Pattern.tool_first
        assert finding.figures["saving_per_year"] == "2880.00"


def test_running_cost_is_not_judged_without_a_measured_saving_nor_after_a_drop():
    unmeasured = _decided(running_cost_per_month=Decimal(500))
    assert rules.running_cost(unmeasured, _situation([unmeasured])) is None
    without_hours = _decided(running_cost_per_month=Decimal(500))
    assert rules.running_cost(without_hours, _situation([without_hours], [_measured(hours=None)])) is None
    dropped = _decided(decision=Decision.drop, running_cost_per_month=Decimal(500))
    assert rules.running_cost(dropped, _situation([dropped], [_measured()])) is None


def test_a_rollout_counts_only_for_a_cycle_decided_to_scale():
    result = _cycle(stage=Stage.result, result_at=_at(_ago(10)), running_cost_per_month=Decimal(200))
    rollout = _rollout(running_cost_per_month=Decimal(100))
    assert rules.running_cost(result, _situation([result], [_measured()], [rollout])) is None


@pytest.mark.parametrize(("kpi", "found"), [("7", False), ("6", True)])
def test_the_additional_contribution_counts_as_what_a_tool_brings(kpi, found):
    # Orders won per month: 5 before, each worth 10 €; 6 now is 120 € a year more, 7 is 240 €.
    cycle = _decided(
        kpi_direction=KpiDirection.higher,
        kpi_baseline=Decimal(5),
        kpi_target=Decimal(8),
        kpi_value_per_unit=Decimal(10),
        kpi_period=Period.month,
        running_cost_per_month=Decimal(260),
    )
    # 2,880 € saved plus 240 € brought is 3,120 €: exactly 260 € a month; plus only 120 € it is less.
    finding = rules.running_cost(cycle, _situation([cycle], [_measured(kpi=kpi)]))
    assert (finding is not None) == found


# --- tool first: adoption under half the target ---------------------------------------------------------


@pytest.mark.parametrize(
    ("started_days_ago", "reached", "found"),
    [
        (31, 5, False),  # half the target: not under half
        (31, 4, True),
        (30, 4, False),  # the 30th day is still in time
        (31, None, False),  # adoption never counted: the unmeasured rule's case
    ],
)
def test_adoption_under_half_the_target_after_thirty_days(started_days_ago, reached, found):
    rollout = _adoption(_rollout(started_days_ago=started_days_ago), reached)
    finding = rules.low_adoption(rollout, TODAY)
    assert (finding is not None) == found
    if found:
        assert finding.figures == {"reached": 4, "target": 10, "days": 31, "reach": "people"}


def test_adoption_is_read_from_the_latest_count():
    rollout = _adoption(_adoption(_rollout(), 2, days_ago=20), 6, days_ago=2)
    assert rules.low_adoption(rollout, TODAY) is None
    rollout = _adoption(_adoption(_rollout(), 6, days_ago=20), 2, days_ago=2)
    assert rules.low_adoption(rollout, TODAY).figures["reached"] == 2


# --- isolated pilot ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("measured_days_ago", "found"), [(60, False), (61, True)])
def test_scaled_without_a_measurement_for_sixty_days(measured_days_ago, found):
    cycle = _decided(days_ago=100)
    facts = _situation([cycle], [_measured(days_ago=measured_days_ago)], [_rollout()])
    finding = rules.scaled_unmeasured(cycle, facts, TODAY)
    assert (finding is not None) == found
    if found:
        assert finding.figures == {"days": 61, "since": _ago(61).isoformat()}


def test_a_rollout_measurement_counts_and_without_any_the_decision_counts():
    cycle = _decided(days_ago=100)
    rollout = _adoption(_rollout(), 8, days_ago=5)
    assert rules.scaled_unmeasured(cycle, _situation([cycle], [_measured(days_ago=90)], [rollout]), TODAY) is None
    assert rules.scaled_unmeasured(_decided(days_ago=60), _situation([]), TODAY) is None
    assert rules.scaled_unmeasured(_decided(days_ago=61), _situation([]), TODAY) is not None


@pytest.mark.parametrize(("decided_days_ago", "found"), [(365, True), (366, False)])
def test_a_scale_decision_is_watched_for_a_year(decided_days_ago, found):
    cycle = _decided(days_ago=decided_days_ago)
    assert (rules.scaled_unmeasured(cycle, _situation([cycle]), TODAY) is not None) == found
    assert (rules.no_rollout(cycle, _situation([cycle]), TODAY) is not None) == found


@pytest.mark.parametrize(("decided_days_ago", "found"), [(14, False), (15, True)])
def test_scaled_without_a_rollout_after_fourteen_days(decided_days_ago, found):
    cycle = _decided(days_ago=decided_days_ago)
    assert (rules.no_rollout(cycle, _situation([cycle]), TODAY) is not None) == found
    assert rules.no_rollout(cycle, _situation([cycle], rollouts=[_rollout()]), TODAY) is None


def test_only_scale_decisions_need_a_rollout():
    for decision in (Decision.iterate, Decision.drop):
        cycle = _decided(decision=decision, days_ago=40)
        assert rules.no_rollout(cycle, _situation([cycle]), TODAY) is None
        assert rules.scaled_unmeasured(cycle, _situation([cycle]), TODAY) is None


@pytest.mark.parametrize(
    ("result_days_ago", "kpi", "found"),
    [
        (31, "4", True),  # the target of 4 days met
        (30, "4", False),  # the 30th day is still in time
        (31, "4.1", False),  # 98 % of the way: not met
    ],
)
def test_a_prototype_that_met_its_target_left_undecided(result_days_ago, kpi, found):
    cycle = _cycle(stage=Stage.result, result_at=_at(_ago(result_days_ago)))
    finding = rules.target_met_undecided(cycle, _situation([cycle], [_measured(days_ago=3, kpi=kpi)]), TODAY)
    assert (finding is not None) == found
    if found:
        assert finding.pattern == Pattern.isolated_pilot and finding.figures["target_percent"] == "100.0"


# --- lone expert --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cycle", "found"),
    [
        (_cycle(sponsor_id=None), True),
        (_cycle(sponsor_id=3), False),
        (_decided(days_ago=90, sponsor_id=None), True),
        (_decided(days_ago=91, sponsor_id=None), False),
    ],
)
def test_a_cycle_without_a_sponsor(cycle, found):
    finding = rules.no_sponsor(cycle, TODAY)
    assert (finding is not None) == found
    if found:
        assert finding.pattern == Pattern.lone_expert


def _owned(owners: list[int | None], named_days_ago: int = 30) -> list[Cycle]:
    return [
        _cycle(i, owner_id=owner, bottleneck_at=_at(_ago(named_days_ago))) for i, owner in enumerate(owners, start=1)
    ]


@pytest.mark.parametrize(
    ("owners", "found"),
    [
        ([1] * 6 + [2] * 4, False),  # 60 %: not more than 60 %
        ([1] * 7 + [2] * 3, True),
        ([1] * 4, False),  # all of four cycles: under the minimum of five
        ([1] * 5, True),
        ([1] * 6 + [None] * 4, False),  # cycles without anyone responsible count in the whole
    ],
)
def test_one_person_owning_most_of_the_years_cycles(owners, found):
    finding = rules.one_owner(_owned(owners), TODAY)
    assert (finding is not None) == found
    if found:
        assert finding.cycle_id is None and finding.user_id == 1
        assert finding.figures == {"cycles": owners.count(1), "total": len(owners)}


@pytest.mark.parametrize(("named_days_ago", "found"), [(365, True), (366, False)])
def test_the_owners_share_counts_the_last_twelve_months(named_days_ago, found):
    assert (rules.one_owner(_owned([1] * 5, named_days_ago), TODAY) is not None) == found


def _chain(count: int, improved: tuple[int, ...] = ()) -> tuple[list[Cycle], list[Measurement]]:
    """``count`` cycles, each the previous one's iteration and decided "iterate"; those at the positions in
    ``improved`` measured the KPI better than their baseline, the others measured it unchanged."""
    cycles, measured = [], []
    for i in range(1, count + 1):
        cycles.append(_decided(i, Decision.iterate, days_ago=200 - i * 30, previous_cycle_id=i - 1 if i > 1 else None))
        measured.append(_measured(i, days_ago=205 - i * 30, kpi="6" if i in improved else "9"))
    return cycles, measured


@pytest.mark.parametrize(("count", "found"), [(2, False), (3, True), (4, True)])
def test_iterations_without_an_improvement(count, found):
    cycles, measured = _chain(count)
    found_ = rules.stuck_iterations(_situation(cycles, measured))
    assert bool(found_) == found
    if found:
        (finding,) = found_
        assert finding.cycle_id == count and finding.figures == {"iterations": count}


def test_an_improvement_or_a_later_decision_breaks_the_run():
    cycles, measured = _chain(3, improved=(2,))
    assert rules.stuck_iterations(_situation(cycles, measured)) == []
    cycles, measured = _chain(3)
    later = _decided(4, Decision.drop, days_ago=5, previous_cycle_id=3)
    assert rules.stuck_iterations(_situation([*cycles, later], measured)) == []
    # A fourth cycle still open leaves the run standing: its iteration is not decided yet.
    still_open = _cycle(4, stage=Stage.bottleneck, previous_cycle_id=3)
    assert [f.cycle_id for f in rules.stuck_iterations(_situation([*cycles, still_open], measured))] == [3]


# --- the whole organization --------------------------------------------------------------------------------


def test_evaluate_finds_each_pattern_in_the_rules_order():
    scaled = _decided(1, days_ago=70, running_cost_per_month=Decimal(1000), sponsor_id=None)
    waiting = _cycle(2, stage=Stage.result, result_at=_at(_ago(40)))
    facts = _situation([scaled, waiting], [_measured(1, days_ago=71), _measured(2, days_ago=2)])
    found = evaluate(facts, TODAY)
    assert [(f.rule, f.cycle_id) for f in found] == [
        (RadarRule.running_cost, 1),
        (RadarRule.scaled_unmeasured, 1),
        (RadarRule.no_rollout, 1),
        (RadarRule.target_met_undecided, 2),
        (RadarRule.no_sponsor, 1),
    ]
    assert {f.pattern for f in found} == {Pattern.tool_first, Pattern.isolated_pilot, Pattern.lone_expert}
    assert len({f.key for f in found}) == len(found)


def test_every_rule_has_a_pattern():
    assert set(rules.PATTERN_OF) == set(RadarRule)


def test_the_doc_states_every_threshold():
    from pathlib import Path

    from engpass.api.radar import THRESHOLDS

    doc = (Path(__file__).parents[2] / "docs" / "radar.md").read_text()
    for name in THRESHOLDS:
        assert f"`{name}` = {getattr(rules, name)}" in doc, name


def test_a_rollout_whose_cycle_scales_no_more_is_not_judged():
    rollout = _adoption(_rollout(), 1)
    scaled = _decided(days_ago=40)
    moved_back = _cycle(stage=Stage.result, result_at=_at(_ago(50)))
    assert RadarRule.low_adoption in _rules(_situation([scaled], [_measured(days_ago=2)], [rollout]))
    assert RadarRule.low_adoption not in _rules(_situation([moved_back], [_measured(days_ago=2)], [rollout]))
