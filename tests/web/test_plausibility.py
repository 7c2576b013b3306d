"""Figures that look like typing errors, and costs that count the hours twice, are asked about, not saved silently.

The rules (engpass.cycles.plausibility) as plain functions; then the forms' flow: the first submit shows
the doubt next to its field with a checkbox and saves nothing, keeping what was typed; ticking the box saves.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale, refresh
from sqlalchemy import select

from engpass import tenancy
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Cycle, Measurement, SolutionType
from engpass.cycles.plausibility import BASELINE_COSTS, MEASUREMENT_COSTS, rate_doubts, week_doubts
from engpass.organizations.models import Organization
from tests.support.cycles import save_a_baseline

RATE = Decimal(65)
CONFIRM = "Ja, diese Werte stimmen."


def _fields(doubts):
    return [doubt.field for doubt in doubts]


def test_thresholds_are_asked_about_just_beyond_them(app):
    with app.test_request_context(), force_locale("de"):
        assert rate_doubts(Decimal(500), "EUR") == []
        [doubt] = rate_doubts(Decimal("500.01"), "EUR")
        assert doubt.field == "default_hourly_rate"
        assert doubt.message.replace("\xa0", " ") == (
            "500,01 € pro Stunde liegt weit über dem, was eine Arbeitsstunde üblicherweise kostet (mehr als 500 €)."
        )
        assert week_doubts({"hours_per_week": Decimal(168)}, BASELINE_COSTS, RATE, "EUR") == []
        assert _fields(week_doubts({"hours_per_week": Decimal("168.5")}, BASELINE_COSTS, RATE, "EUR")) == [
            "hours_per_week"
        ]
        assert week_doubts({"direct_cost_per_week": Decimal(1_000_000)}, BASELINE_COSTS, RATE, "EUR") == []
        million = {"direct_cost_per_week": Decimal("1000000.01")}
        assert _fields(week_doubts(million, BASELINE_COSTS, RATE, "EUR")) == ["direct_cost_per_week"]
        assert _fields(week_doubts({"cost_per_week": Decimal("1000000.01")}, MEASUREMENT_COSTS, RATE, "EUR")) == [
            "cost_per_week"
        ]


@pytest.mark.parametrize(
    ("cost", "doubted"),
    [
        ("910", True),
        ("910.01", True),
        ("901", True),
        ("919.1", True),
        ("919.11", False),
        ("900.89", False),
        ("0", False),
        ("1000", False),
    ],
)
def test_a_cost_equal_to_hours_times_rate_is_asked_about(app, cost, doubted):
    # 14 h × 65 € = 910 €: within a cent or 1 % (9.10 €) it is the labour cost the hours already carry.
    values = {"hours_per_week": Decimal(14), "direct_cost_per_week": Decimal(cost)}
    measured = {"hours_per_week": Decimal(14), "cost_per_week": Decimal(cost)}
    with app.test_request_context():
        assert bool(week_doubts(values, BASELINE_COSTS, RATE, "EUR")) is doubted
        assert bool(week_doubts(measured, MEASUREMENT_COSTS, RATE, "EUR")) is doubted


def test_without_hours_or_a_rate_nothing_counts_twice():
    assert (
        week_doubts({"hours_per_week": None, "direct_cost_per_week": Decimal(910)}, BASELINE_COSTS, RATE, "EUR") == []
    )
    assert (
        week_doubts(
            {"hours_per_week": Decimal(14), "direct_cost_per_week": Decimal(0)}, BASELINE_COSTS, Decimal(0), "EUR"
        )
        == []
    )


# --- the forms --------------------------------------------------------------------------------------


@pytest.fixture
def company(make_user, make_org, login, session):
    owner = make_user(name="Sabine Müller")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    login(owner)
    return org, owner


def _post(client, url, data):
    refresh()
    response = client.post(url, data=data)
    return response, response.get_data(as_text=True).replace("\xa0", " ")


SETTINGS = {
    "name": "Müller Metallbau GmbH",
    "locale": "de",
    "timezone": "Europe/Berlin",
    "currency": "EUR",
    "working_weeks_per_year": "52",
}


def test_an_hourly_rate_above_500_is_saved_only_once_confirmed(client, session, company):
    org, _owner = company
    url = f"/o/{org.slug}/settings"
    response, text = _post(client, url, {**SETTINGS, "default_hourly_rate": "5000,00"})
    assert response.status_code == 422
    assert "5.000 € pro Stunde liegt weit über dem" in text and 'class="field__warning"' in text
    assert CONFIRM in text and 'value="5000,00"' in text
    session.expire_all()
    assert session.get(Organization, org.id).default_hourly_rate == Decimal("65.00")

    response, _text = _post(client, url, {**SETTINGS, "default_hourly_rate": "5000,00", "confirm_implausible": "y"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Organization, org.id).default_hourly_rate == Decimal(5000)
    # The confirmed rate is not asked about again when another setting changes.
    response, _text = _post(client, url, {**SETTINGS, "default_hourly_rate": "5.000", "name": "Müller Metallbau AG"})
    assert response.status_code == 422  # "5.000" could be five: the rate is asked as typed, not guessed
    response, _text = _post(client, url, {**SETTINGS, "default_hourly_rate": "5000", "name": "Müller Metallbau AG"})
    assert response.status_code == 302


def test_a_plausible_rate_is_saved_without_a_question(client, session, company):
    org, _owner = company
    response, _text = _post(client, f"/o/{org.slug}/settings", {**SETTINGS, "default_hourly_rate": "500"})
    assert response.status_code == 302
    page = client.get(f"/o/{org.slug}/settings").text
    assert CONFIRM not in page


def _cycle(session, org, owner, stage: str) -> Cycle:
    with tenancy.tenant_context(session, org.id):
        cycle = cycles.create_cycle(
            session, title="Angebote", category=Category.quoting, why="x", owner_id=owner.id, actor_id=owner.id
        )
        if stage == "prototype":
            save_a_baseline(session, cycle, owner.id)
            cycles.save_solution(
                session, cycle, {"solution_what": "Vorlage", "solution_type": SolutionType.other}, owner.id
            )
            cycles.start_prototype(session, cycle, {"prototype_start": date.today() - timedelta(days=7)}, owner.id)
        session.commit()
        return cycle


BASELINE = {
    "hours_per_week": "14",
    "kpi_name": "Dauer",
    "kpi_unit": "Tage",
    "kpi_direction": "lower",
    "kpi_baseline": "9",
    "kpi_target": "4",
}


def test_direct_cost_equal_to_the_hours_labour_cost_is_asked_about_then_saved(client, session, company):
    org, owner = company
    cycle = _cycle(session, org, owner, "bottleneck")
    url = f"/o/{org.slug}/cycles/{cycle.id}/baseline"
    response, text = _post(client, url, {**BASELINE, "direct_cost_per_week": "910,00", "hours_per_week": "200"})
    assert response.status_code == 422
    assert "Das ist genau, was die Stunden kosten" not in text  # 200 h × 65 € is 13.000 €, not 910 €
    assert "200 Stunden pro Woche sind mehr, als eine ganze Woche hat (168 Stunden)" in text

    response, text = _post(client, url, {**BASELINE, "direct_cost_per_week": "910,00"})
    assert response.status_code == 422
    assert "Das ist genau, was die Stunden kosten (14 Std. × 65 €)" in text
    assert "Lizenzen, Material, externe Dienstleister" in text and "Fehler, verlorene Aufträge, Wartezeit" in text
    assert 'value="910,00"' in text and CONFIRM in text
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        assert session.get(Cycle, cycle.id).hours_per_week is None

    response, _text = _post(client, url, {**BASELINE, "direct_cost_per_week": "910,00", "confirm_implausible": "y"})
    assert response.status_code == 302
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        assert session.get(Cycle, cycle.id).direct_cost_per_week == Decimal(910)

    # Confirmed once: saving the form again with the same figures asks nothing.
    response, _text = _post(client, url, {**BASELINE, "direct_cost_per_week": "910", "kpi_name": "Tage bis Angebot"})
    assert response.status_code == 302


def test_a_measured_cost_that_is_the_hours_labour_cost_is_asked_about(client, session, company):
    org, owner = company
    cycle = _cycle(session, org, owner, "prototype")
    url = f"/o/{org.slug}/cycles/{cycle.id}/measurements/new"
    measured = {"measured_on": date.today().isoformat(), "kpi_value": "4", "hours_per_week": "6", "note": ""}
    response, text = _post(client, url, {**measured, "cost_per_week": "390"})
    assert response.status_code == 422 and "(6 Std. × 65 €)" in text
    response, text = _post(client, url, {**measured, "cost_per_week": "1.000.000,01"})
    assert response.status_code == 422 and "1.000.000,01 € pro Woche sind mehr als 1.000.000 €." in text
    with tenancy.tenant_context(session, org.id):
        assert session.scalars(select(Measurement)).all() == []
    response, _text = _post(client, url, {**measured, "cost_per_week": "390", "confirm_implausible": "y"})
    assert response.status_code == 302
    with tenancy.tenant_context(session, org.id):
        assert session.scalars(select(Measurement.cost_per_week)).all() == [Decimal(390)]
