"""Indirect cost items: each kind's formula, the period made yearly, the share resting on guesses —
the worked example of docs/business-case.md ("Sabine's indirect costs"), figure by figure."""

from decimal import Decimal

import pytest
from flask_babel import force_locale

from engpass.cycles import indirect_costs
from engpass.cycles.business_case import status_quo_cost
from engpass.cycles.figures import guessed_share_figure, status_quo_figure
from engpass.cycles.models import Cycle, IndirectCostItem, Period

RATE = Decimal("65")
WEEKS = 46


def _item(kind, period, source, label="", quantity=None, unit_value=None, people=None):
    return IndirectCostItem(
        kind=kind,
        period=period,
        source=source,
        label=label,
        quantity=None if quantity is None else Decimal(quantity),
        unit_value=None if unit_value is None else Decimal(unit_value),
        people_affected=people,
        source_note="",
    )


def _sabines_items():
    return [
        _item("errors", "month", "measured", "Nacharbeit an Angeboten", quantity="6", unit_value="85"),
        _item("lost_orders", "month", "estimated", "Aufträge an schnellere Anbieter", quantity="2", unit_value="1200"),
        _item("waiting", "week", "measured", "Vertrieb wartet auf Kalkulation", quantity="1.5", people=3),
        _item("penalties", "year", "guess", "Vertragsstrafe bei Terminverzug", quantity="1", unit_value="5000"),
        _item("other", "week", "estimated", "Express-Versand", unit_value="40"),
    ]


def _sabines_cycle():
    return Cycle(
        hours_per_week=Decimal("14"), direct_cost_per_week=Decimal("100"), indirect_cost_items=_sabines_items()
    )


@pytest.mark.parametrize(
    ("index", "per_period", "per_year"),
    [
        (0, "510", "6120.00"),  # 6 errors × 85 € = 510 € a month × 12
        (1, "2400", "28800.00"),  # 2 lost orders × 1,200 € = 2,400 € a month × 12
        (2, "292.50", "13455.00"),  # 1.5 h × 3 people × 65 € = 292.50 € a week × 46
        (3, "5000", "5000.00"),  # 1 penalty × 5,000 € a year
        (4, "40", "1840.00"),  # 40 € a week × 46
    ],
)
def test_each_kind_has_its_formula_and_its_period(index, per_period, per_year):
    cost = indirect_costs.item_cost(_sabines_items()[index], RATE, WEEKS)
    assert cost.per_period == Decimal(per_period)
    assert cost.per_year == Decimal(per_year)


def test_a_period_is_made_yearly_by_the_working_weeks_twelve_months_or_once():
    assert Period("week").per_year(46) == 46
    assert Period("week").per_year(52) == 52
    assert Period("month").per_year(46) == 12
    assert Period("year").per_year(46) == 1


def test_sabines_status_quo_with_every_kind_of_indirect_cost():
    cost = status_quo_cost(_sabines_cycle(), RATE, WEEKS)
    assert cost.hours_cost == Decimal("41860.00")  # 14 × 65 × 46
    assert cost.direct_cost == Decimal("4600.00")  # 100 × 46
    assert cost.indirect_cost == Decimal("55215.00")  # 6,120 + 28,800 + 13,455 + 5,000 + 1,840
    assert cost.total == Decimal("101675.00")  # 41,860 + 4,600 + 55,215
    assert cost.guessed_cost == Decimal("5000.00")  # the penalty is a guess
    assert cost.guessed_share == Decimal("4.9")  # 5,000 ÷ 101,675 × 100 = 4.92
    assert indirect_costs.guessed_names(cost.indirect_items) == ["Vertragsstrafe bei Terminverzug"]
    # The weekly figure the business case's saved cost reads: 55,215 ÷ 46 = 1,200.326…
    assert indirect_costs.weekly(cost.indirect_cost, WEEKS) == Decimal("1200.33")


def test_the_same_items_at_52_working_weeks_change_only_the_weekly_ones():
    cost = status_quo_cost(_sabines_cycle(), RATE, 52)
    # 292.50 × 52 = 15,210 and 40 × 52 = 2,080; the monthly and yearly items stay.
    assert cost.indirect_cost == Decimal("57210.00")
    assert cost.total == Decimal("47320.00") + Decimal("5200.00") + Decimal("57210.00")


def test_the_share_is_undefined_for_a_status_quo_that_costs_nothing():
    free = Cycle(hours_per_week=Decimal(0), indirect_cost_items=[_item("other", "week", "guess", unit_value="0")])
    cost = status_quo_cost(free, RATE, WEEKS)
    assert cost.total == 0 and cost.guessed_share is None


def test_the_figures_name_each_item_its_source_and_the_weeks(app):
    with app.test_request_context(), force_locale("de"):
        cost = status_quo_cost(_sabines_cycle(), RATE, WEEKS)
        figure = status_quo_figure(_sabines_cycle(), cost, RATE, "EUR")
        text = figure.formula.replace("\xa0", " ")
        assert figure.value.replace("\xa0", " ") == "101.675 €"
        for expected in (
            "14 Std./Woche × 65 € × 46 Arbeitswochen = 41.860 €",
            "Nacharbeit an Angeboten (Messung): 6 Fehler × 85 € je Fehler pro Monat × 12 Monate = 6.120 €",
            "Aufträge an schnellere Anbieter (Schätzung): 2 verlorene Aufträge × 1.200 € Deckungsbeitrag"
            " pro Monat × 12 Monate = 28.800 €",
            "Vertrieb wartet auf Kalkulation (Messung): 1,5 Std. Warten × 3 Personen × 65 € pro Woche"
            " × 46 Arbeitswochen = 13.455 €",
            "Vertragsstrafe bei Terminverzug (Vermutung): 1 Vertragsstrafe × 5.000 € pro Jahr = 5.000 €",
            "Express-Versand (Schätzung): 40 € pro Woche × 46 Arbeitswochen = 1.840 €",
        ):
            assert expected in text, expected
        share = guessed_share_figure(cost, "EUR")
        assert share.value.replace("\xa0", " ") == "4,9 %"
        assert share.formula.replace("\xa0", " ") == (
            "5.000 € von 101.675 € beruhen auf Vermutungen: Vertragsstrafe bei Terminverzug"
        )
