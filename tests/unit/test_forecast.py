"""Effects that are not hours and forecast against result, with the worked example of
docs/business-case.md ("Additional contribution", "Forecast against result") figure by figure."""

from datetime import date
from decimal import Decimal

import pytest

from engpass.cycles.business_case import compute
from engpass.cycles.forecast import Accuracy, accuracy, achieved_share, compare, forecast_case, organization_accuracy
from engpass.cycles.models import Cycle, KpiDirection, Measurement, Period
from engpass.cycles.revenue import contribution

RATE = Decimal("65")


def _sabine(**kw):
    values = dict(
        id=1,
        hours_per_week=Decimal("14"),
        kpi_direction=KpiDirection.lower,
        kpi_baseline=Decimal("9"),
        kpi_target=Decimal("4"),
        effort_days=Decimal("6"),
        forecast_hours_per_week=Decimal("5"),
        forecast_kpi=Decimal("4"),
    )
    values.update(kw)
    return Cycle(**values)


def _leads(**kw):
    """Lead scoring: orders won per month, 6 before, each worth 450 € contribution margin."""
    values = dict(
        id=2,
        kpi_name="Orders won per month",
        kpi_direction=KpiDirection.higher,
        kpi_baseline=Decimal("6"),
        kpi_target=Decimal("12"),
        kpi_value_per_unit=Decimal("450"),
        kpi_period=Period.month,
        forecast_kpi=Decimal("12"),
    )
    values.update(kw)
    return Cycle(**values)


def _m(kpi, hours=None, cost=None, day=20, id_=1):
    return Measurement(
        id=id_,
        measured_on=date(2026, 11, day),
        kpi_value=Decimal(kpi),
        hours_per_week=None if hours is None else Decimal(hours),
        cost_per_week=None if cost is None else Decimal(cost),
    )


# --- additional contribution -------------------------------------------------------------------


def test_orders_per_month_worth_their_contribution_margin():
    """(9 − 6) orders/month × 450 € × 12 months = 16,200 €."""
    result = contribution(_leads(), Decimal("9"), 52)
    assert result is not None
    assert result.improvement == Decimal("3")
    assert result.periods_per_year == 12
    assert result.per_year == Decimal("16200.00")


def test_a_weekly_kpi_counts_the_organizations_working_weeks():
    """(3 − 2) orders/week × 450 € × 46 working weeks = 20,700 €."""
    cycle = _leads(kpi_baseline=Decimal("2"), kpi_period=Period.week)
    assert contribution(cycle, Decimal("3"), 46).per_year == Decimal("20700.00")
    assert Period.week.per_year(46) == 46


def test_a_yearly_kpi_counts_once():
    """(44 − 40) × 1,000 € × 1 = 4,000 €."""
    cycle = _leads(kpi_baseline=Decimal("40"), kpi_period=Period.year, kpi_value_per_unit=Decimal("1000"))
    assert contribution(cycle, Decimal("44"), 52).per_year == Decimal("4000.00")


def test_lower_is_better_counts_the_fall_as_the_gain():
    """Complaints per month 20 → 14, each worth 80 €: (20 − 14) × 80 × 12 = 5,760 €."""
    cycle = _leads(kpi_direction=KpiDirection.lower, kpi_baseline=Decimal("20"), kpi_value_per_unit=Decimal("80"))
    assert contribution(cycle, Decimal("14"), 52).per_year == Decimal("5760.00")
    # A rise is a worsening: (20 − 23) × 80 × 12 = −2,880 €.
    assert contribution(cycle, Decimal("23"), 52).per_year == Decimal("-2880.00")


def test_a_worsening_is_negative():
    """(5 − 6) × 450 × 12 = −5,400 €."""
    assert contribution(_leads(), Decimal("5"), 52).per_year == Decimal("-5400.00")


@pytest.mark.parametrize("missing", ["kpi_value_per_unit", "kpi_period", "kpi_baseline", "kpi_direction"])
def test_no_contribution_without_its_numbers(missing):
    assert contribution(_leads(**{missing: None}), Decimal("9"), 52) is None
    assert contribution(_leads(), None, 52) is None


def test_the_contribution_is_not_added_to_the_savings():
    """The lead-scoring cycle saves no hours: its savings stay missing, whatever the orders are worth."""
    case = compute(_leads(), [_m("9")], RATE, 52)
    assert case.euros_per_year is None
    assert case.payback_weeks is None


# --- forecast against result -------------------------------------------------------------------


def test_sabines_forecast_against_her_result():
    """Forecast 14 → 5 h/week: (14 − 5) × 65 × 52 = 30,420 €; measured 27,040 € = 88.9 % of it."""
    cycle = _sabine()
    expected = forecast_case(cycle, RATE, 52)
    assert expected.euros_per_year == Decimal("30420.00")
    actual = compute(cycle, [_m("4", "6")], RATE, 52)
    result = compare(cycle, [_m("4", "6")], actual, RATE, 52)
    assert result.stated and result.measured
    assert (result.hours_per_week.forecast, result.hours_per_week.actual) == (Decimal("5"), Decimal("6"))
    assert result.hours_per_week.deviation == Decimal("1")  # one hour a week more than forecast
    assert result.kpi.deviation == Decimal("0")
    assert result.savings_per_year.forecast == Decimal("30420.00")
    assert result.savings_per_year.actual == Decimal("27040.00")
    assert result.savings_per_year.deviation == Decimal("-3380.00")
    assert result.achieved_percent == Decimal("88.9")  # 27,040 ÷ 30,420 × 100
    assert result.contribution_per_year.forecast is None  # the quote time has no value per unit


def test_the_forecast_subtracts_the_running_cost_like_the_result():
    """(14 − 5) × 65 × 52 − 50 × 12 = 29,820 €."""
    assert forecast_case(_sabine(running_cost_per_month=Decimal("50")), RATE, 52).euros_per_year == Decimal("29820.00")


def test_a_forecast_of_cost_only():
    """400 € cost a week before, 250 € forecast, no hours: 150 × 52 = 7,800 €."""
    cycle = _sabine(
        hours_per_week=None,
        forecast_hours_per_week=None,
        direct_cost_per_week=Decimal("400"),
        forecast_cost_per_week=Decimal("250"),
    )
    assert forecast_case(cycle, RATE, 52).euros_per_year == Decimal("7800.00")


def test_lead_scoring_forecast_of_the_contribution():
    """Forecast 12 orders/month: (12 − 6) × 450 × 12 = 32,400 €; measured 9: 16,200 €."""
    cycle = _leads()
    actual = compute(cycle, [_m("9")], RATE, 52)
    result = compare(cycle, [_m("9")], actual, RATE, 52)
    assert result.contribution_per_year.forecast == Decimal("32400.00")
    assert result.contribution_per_year.actual == Decimal("16200.00")
    assert result.contribution_per_year.deviation == Decimal("-16200.00")
    assert result.kpi.deviation == Decimal("-3")
    # No hours or cost forecast: no savings forecast, so no share of it.
    assert result.savings_per_year.forecast is None
    assert result.achieved_percent is None


def test_no_forecast_stated():
    cycle = _sabine(forecast_hours_per_week=None, forecast_kpi=None)
    assert forecast_case(cycle, RATE, 52) is None
    result = compare(cycle, [_m("4", "6")], compute(cycle, [_m("4", "6")], RATE, 52), RATE, 52)
    assert not result.stated
    assert result.achieved_percent is None


def test_forecast_before_any_measurement():
    cycle = _sabine()
    result = compare(cycle, [], compute(cycle, [], RATE, 52), RATE, 52)
    assert result.stated and not result.measured
    assert result.savings_per_year.actual is None
    assert result.savings_per_year.deviation is None
    assert result.achieved_percent is None


@pytest.mark.parametrize(
    ("forecast", "actual", "share"),
    [
        (Decimal("30420"), Decimal("27040"), Decimal("88.9")),
        (Decimal("10000"), Decimal("12000"), Decimal("120.0")),
        (Decimal("5000"), Decimal("-1000"), Decimal("-20.0")),  # a loss where savings were expected
        (Decimal("0"), Decimal("1000"), None),  # a share of nothing
        (Decimal("-500"), Decimal("1000"), None),  # a loss was forecast
        (None, Decimal("1000"), None),
        (Decimal("1000"), None, None),
    ],
)
def test_achieved_share(forecast, actual, share):
    assert achieved_share(forecast, actual) == share


# --- the organization's forecast accuracy --------------------------------------------------------


def test_organization_accuracy_of_the_worked_example():
    """Errors 3,380/30,420 = 11.1 %, 2,000/10,000 = 20 %, 6,000/5,000 = 120 %: mean 50.4 % → 49.6 %."""
    pairs = [
        (Decimal("30420"), Decimal("27040")),
        (Decimal("10000"), Decimal("12000")),
        (Decimal("5000"), Decimal("-1000")),
    ]
    assert accuracy(pairs) == Accuracy(Decimal("49.6"), 3)
    # Without the cycle that made a loss: mean (11.1 + 20) / 2 = 15.6 % → 84.4 %.
    assert accuracy(pairs[:2]) == Accuracy(Decimal("84.4"), 2)


def test_accuracy_leaves_out_cycles_without_a_forecast_or_a_measurement():
    pairs = [
        (Decimal("10000"), Decimal("12000")),
        (Decimal("0"), Decimal("5000")),  # forecast 0: no error can be computed
        (None, Decimal("5000")),  # no forecast
        (Decimal("8000"), None),  # not measured
    ]
    assert accuracy(pairs) == Accuracy(Decimal("80.0"), 1)


def test_accuracy_is_floored_at_zero_and_missing_without_cycles():
    assert accuracy([(Decimal("1000"), Decimal("-5000"))]) == Accuracy(Decimal("0.0"), 1)
    assert accuracy([]) == Accuracy(None, 0)


def test_organization_accuracy_from_cycles_and_measurements():
    """Sabine's cycle (88.9 % achieved: error 11.1 %) and one without a forecast: 88.9 % over 1 cycle."""
    sabine = _sabine()
    other = _sabine(id=3, forecast_hours_per_week=None, forecast_kpi=None)
    unmeasured = _sabine(id=4)
    measured = {1: [_m("4", "6")], 3: [_m("4", "6")]}
    assert organization_accuracy([sabine, other, unmeasured], measured, RATE, 52) == Accuracy(Decimal("88.9"), 1)


def test_the_accuracy_is_read_from_the_recomputes_document():
    from engpass.trends.portfolio import SCHEMA, forecast_accuracy

    assert forecast_accuracy({"v": SCHEMA, "forecast_accuracy": "88.9", "forecast_cycles": 1}) == Accuracy(
        Decimal("88.9"), 1
    )
    assert forecast_accuracy({"v": SCHEMA, "forecast_accuracy": None, "forecast_cycles": 0}) == Accuracy(None, 0)
    # Written before the accuracy existed, or not at all: nothing to show until the next recompute.
    assert forecast_accuracy({"v": SCHEMA, "level": 2}) is None
    assert forecast_accuracy(None) is None
