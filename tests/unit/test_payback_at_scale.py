"""The payback, the prototype's and at scale: one formula (``business_case.payback_weeks``), the scaling costs
in its inputs (docs/business-case.md)."""

from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale

from engpass.cycles.business_case import BusinessCase, payback_weeks
from engpass.exports.paper_content import payback_at_scale, scaling_figures
from engpass.rollouts.costs import ScalingCost, scaling_cost
from engpass.rollouts.models import Reach, Rollout


@pytest.mark.parametrize(
    ("cost", "savings", "weeks", "expected"),
    [
        ("3120", "27040", 52, Decimal("6.0")),
        ("5620", "25600", 52, Decimal("11.4")),
        ("3120", "23920", 46, Decimal("6.0")),
        ("0", "1000", 52, Decimal("0.0")),
        ("3120", "0", 52, None),
        ("3120", "-10", 52, None),
        ("3120", None, 52, None),
    ],
)
def test_the_payback_in_weeks(cost, savings, weeks, expected):
    assert payback_weeks(Decimal(cost), None if savings is None else Decimal(savings), weeks) == expected


def _case(savings: str | None) -> BusinessCase:
    return BusinessCase(
        hours_saved_per_week=Decimal(8),
        cost_saved_per_week=Decimal(0),
        running_cost_per_year=Decimal(0),
        euros_per_year=None if savings is None else Decimal(savings),
        kpi_current=Decimal(4),
        kpi_change_percent=Decimal("-55.6"),
        kpi_improved=True,
        target_reached_percent=Decimal(100),
        effort_cost=Decimal(3120),
        payback_weeks=None,
        measured=savings is not None,
        weeks_per_year=52,
    )


def _plain(text):
    return text.replace("\xa0", " ")


def test_at_scale_the_one_off_cost_adds_to_the_effort_and_the_running_cost_comes_off_the_savings(app):
    with app.test_request_context(), force_locale("de"):
        figure = payback_at_scale(_case("27040"), ScalingCost(Decimal(2500), Decimal(1440)), "EUR")
        assert _plain(figure.value) == "11,4 Wochen" and figure.tone == "good"
        assert _plain(figure.formula) == (
            "(3.120 € Aufwand + 2.500 € Skalierung einmalig) ÷ ((27.040 € − 1.440 € Skalierung pro Jahr)"
            " ÷ 52 Arbeitswochen) = 11,4 Wochen"
        )
        eaten = payback_at_scale(_case("27040"), ScalingCost(None, Decimal(30000)), "EUR")
        assert eaten.value is None and eaten.tone == "bad" and "zehren die Einsparung auf" in eaten.missing
        unmeasured = payback_at_scale(_case(None), ScalingCost(Decimal(2500), None), "EUR")
        assert unmeasured.value is None and unmeasured.missing == "Braucht die Einsparung pro Jahr."


def test_the_cost_of_scaling_in_words_says_what_the_rollout_left_out(app):
    rollout = Rollout(
        reach=Reach.sites,
        target_count=3,
        started_on=date(2026, 12, 1),
        one_off_cost=None,
        running_cost_per_month=Decimal(120),
    )
    with app.test_request_context(), force_locale("de"):
        once, yearly, first = scaling_figures(rollout, scaling_cost(rollout), "EUR")
        assert once.value is None and once.missing == "Im Rollout nicht angegeben."
        assert _plain(yearly.formula) == "120 € pro Monat × 12 = 1.440 €"
        assert _plain(first.formula) == "0 € einmalig + 1.440 € laufend = 1.440 €"
