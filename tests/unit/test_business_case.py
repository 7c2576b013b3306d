"""The business case math, with hand-computed examples (Sabine's journey first)."""

from datetime import date
from decimal import Decimal

from engpass.cycles.business_case import StatusQuoCost, compute, status_quo_cost
from engpass.cycles.models import Cycle, IndirectCostItem, KpiDirection, Measurement


def _cycle(**kw):
    defaults = dict(
        hours_per_week=Decimal("14"),
        direct_cost_per_week=None,
        indirect_cost_per_week=None,
        kpi_direction=KpiDirection.lower,
        kpi_baseline=Decimal("9"),
        kpi_target=Decimal("4"),
        effort_days=Decimal("6"),
        one_off_cost=None,
        running_cost_per_month=None,
    )
    defaults.update(kw)
    return Cycle(**defaults)


def _m(day, kpi, hours=None, cost=None, id_=None):
    return Measurement(
        id=id_,
        measured_on=date(2026, 11, day),
        kpi_value=Decimal(kpi),
        hours_per_week=None if hours is None else Decimal(hours),
        cost_per_week=None if cost is None else Decimal(cost),
    )


def test_sabines_quote_cycle():
    """14 → 6 h/week at 65 €/h, 6 days effort, quote time 9 → 4 days."""
    case = compute(_cycle(), [_m(3, "5", "7"), _m(20, "4", "6")], Decimal("65"), 52)
    assert case.hours_saved_per_week == Decimal("8")
    assert case.euros_per_year == Decimal("27040.00")  # 8 × 65 × 52
    assert case.effort_cost == Decimal("3120.00")  # 6 days × 8 h × 65
    assert case.payback_weeks == Decimal("6.0")  # 3120 / 520 per week
    assert case.kpi_current == Decimal("4")
    assert case.kpi_change_percent == Decimal("-55.6")  # (4 − 9) / 9
    assert case.kpi_improved is True  # lower is better
    assert case.target_reached_percent == Decimal("100.0")
    assert case.measured


def test_latest_measurement_by_date_counts_not_insertion_order():
    case = compute(_cycle(), [_m(20, "4", "6"), _m(3, "8", "13")], Decimal("65"), 52)
    assert case.kpi_current == Decimal("4")
    assert case.hours_saved_per_week == Decimal("8")


def test_cost_delta_and_running_cost():
    """Baseline cost 300 + 100 per week, measured 250: +150/week; running 50/month."""
    cycle = _cycle(
        direct_cost_per_week=Decimal("300"),
        indirect_cost_per_week=Decimal("100"),
        running_cost_per_month=Decimal("50"),
        one_off_cost=Decimal("1000"),
        effort_days=Decimal("2"),
    )
    case = compute(cycle, [_m(10, "5", "10", "250")], Decimal("50"), 52)
    # hours: 4 × 50 = 200/week; cost: 150/week → 350 × 52 = 18,200 − 600 running = 17,600
    assert case.cost_saved_per_week == Decimal("150.00")
    assert case.running_cost_per_year == Decimal("600.00")
    assert case.euros_per_year == Decimal("17600.00")
    # effort: 2 × 8 × 50 + 1000 = 1800; weekly net 17,600 / 52 = 338.46 → 5.3 weeks
    assert case.effort_cost == Decimal("1800.00")
    assert case.payback_weeks == Decimal("5.3")


def test_higher_is_better_kpi_and_partial_target():
    cycle = _cycle(kpi_direction=KpiDirection.higher, kpi_baseline=Decimal("20"), kpi_target=Decimal("40"))
    case = compute(cycle, [_m(5, "25")], Decimal("65"), 52)
    assert case.kpi_change_percent == Decimal("25.0")
    assert case.kpi_improved is True
    assert case.target_reached_percent == Decimal("25.0")
    assert case.hours_saved_per_week is None and case.euros_per_year is None
    assert case.payback_weeks is None


def test_worse_result_is_reported_as_such_and_never_pays_back():
    case = compute(_cycle(), [_m(5, "11", "16")], Decimal("65"), 52)
    assert case.kpi_improved is False
    assert case.hours_saved_per_week == Decimal("-2")
    assert case.euros_per_year == Decimal("-6760.00")
    assert case.payback_weeks is None


def test_no_measurements_yet():
    case = compute(_cycle(), [], Decimal("65"), 52)
    assert not case.measured
    assert case.euros_per_year is None and case.kpi_change_percent is None and case.kpi_improved is None
    assert case.effort_cost == Decimal("3120.00")


def test_zero_baseline_gives_no_percentage_but_no_error():
    case = compute(_cycle(kpi_baseline=Decimal("0"), kpi_target=Decimal("0")), [_m(5, "3")], Decimal("65"), 52)
    assert case.kpi_change_percent is None
    assert case.target_reached_percent is None


def test_sabines_quote_cycle_at_46_working_weeks():
    """The same cycle in a company that counts 46 working weeks: the yearly figure shrinks, the payback
    (effort against the weekly saving) stays."""
    case = compute(_cycle(), [_m(3, "5", "7"), _m(20, "4", "6")], Decimal("65"), 46)
    assert case.weeks_per_year == 46
    assert case.euros_per_year == Decimal("23920.00")  # 8 × 65 × 46
    assert case.payback_weeks == Decimal("6.0")  # 3120 / (23920 / 46)


def test_running_cost_weighs_more_in_fewer_working_weeks():
    cycle = _cycle(running_cost_per_month=Decimal("50"))
    case = compute(cycle, [_m(5, "4", "6")], Decimal("65"), 46)
    assert case.euros_per_year == Decimal("23320.00")  # 8 × 65 × 46 − 50 × 12
    assert case.payback_weeks == Decimal("6.2")  # 3120 / (23320 / 46) = 6.15…


def test_status_quo_cost_of_sabines_cycle():
    cost = status_quo_cost(_cycle(), Decimal("65"), 52)
    # 14 × 65 × 52; nothing rests on a guess
    assert cost == StatusQuoCost(
        Decimal("47320.00"), None, None, Decimal("47320.00"), 52, (), Decimal("0.00"), Decimal("0.0")
    )
    assert status_quo_cost(_cycle(), Decimal("65"), 46).total == Decimal("41860.00")  # 14 × 65 × 46


def _other_per_week(amount: str) -> IndirectCostItem:
    """What the data migration made of a cycle's former indirect cost per week."""
    return IndirectCostItem(kind="other", unit_value=Decimal(amount), period="week", source="estimated", label="")


def test_status_quo_cost_has_every_part_of_the_week():
    cycle = _cycle(direct_cost_per_week=Decimal("100"), indirect_cost_items=[_other_per_week("250.50")])
    cost = status_quo_cost(cycle, Decimal("65"), 46)
    assert cost.hours_cost == Decimal("41860.00")  # 14 × 65 × 46
    assert cost.direct_cost == Decimal("4600.00")  # 100 × 46
    assert cost.indirect_cost == Decimal("11523.00")  # 250.50 × 46
    assert cost.total == Decimal("57983.00")
    assert cost.guessed_cost == Decimal(0) and cost.guessed_share == Decimal("0.0")


def test_status_quo_cost_needs_a_number_of_the_status_quo():
    assert status_quo_cost(_cycle(hours_per_week=None), Decimal("65"), 52) is None
    only_cost = status_quo_cost(
        _cycle(hours_per_week=None, indirect_cost_items=[_other_per_week("10")]), Decimal("65"), 52
    )
    assert (only_cost.hours_cost, only_cost.indirect_cost, only_cost.total) == (
        None,
        Decimal("520.00"),
        Decimal("520.00"),
    )


def test_the_weekly_indirect_field_alone_is_no_part_of_the_status_quo_cost():
    """The items are the indirect cost; the weekly field is only derived from them (no double counting)."""
    cost = status_quo_cost(_cycle(indirect_cost_per_week=Decimal("250.50")), Decimal("65"), 46)
    assert cost.indirect_cost is None and cost.total == Decimal("41860.00")
