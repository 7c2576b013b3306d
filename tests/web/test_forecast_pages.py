"""The KPI's value and the forecast on the cycle pages, the print page, the PDF, the dashboard and the
portfolio: German input, bad input, other organizations' cycles, and query counts that do not grow."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import refresh
from pypdf import PdfReader

from engpass import tenancy
from engpass.consulting.models import AccessLevel, ClientAccess
from engpass.cycles import indirect_service, service
from engpass.cycles.models import Cycle, Measurement, Period, Stage
from engpass.organizations.models import OrgKind
from engpass.trends import service as trends
from tests.support.cycles import (
    BASELINE_FORM,
    LEAD_SCORING_SHEET,
    SCALED_CYCLE_INDIRECT_COSTS,
    SCALED_CYCLE_SHEET,
    SCALED_FORECAST_SHEET,
    lead_scoring_cycle,
    scaled_quoting_cycle,
    state_a_forecast,
)


def _text(response) -> str:
    return response.get_data(as_text=True).replace("\xa0", " ").replace("\u202f", " ")


@pytest.fixture
def sabine(make_user, make_org, login):
    owner = make_user(name="Sabine Müller")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    login(owner)
    return owner, org


def _in(session, org, build):
    with tenancy.tenant_context(session, org.id):
        result = build(session)
        session.commit()
        return result


def _cycle(session, org, cycle_id) -> Cycle:
    session.expunge_all()
    with tenancy.tenant_context(session, org.id):
        return session.get(Cycle, cycle_id)


def _post(client, url, data):
    refresh()
    return client.post(url, data=data)


# --- the forms -----------------------------------------------------------------------------------


def test_the_kpis_value_is_typed_the_german_way_and_needs_its_period(client, session, sabine):
    owner, org = sabine
    cycle = _in(
        session,
        org,
        lambda s: service.create_cycle(
            s, title="Zu wenige Aufträge", category="leads", why="", owner_id=owner.id, actor_id=owner.id
        ),
    )
    url = f"/o/{org.slug}/cycles/{cycle.id}/baseline"
    form = _text(client.get(url))
    assert "Wert pro Einheit" in form and "Zeitraum wählen …" in form and 'value="month"' in form

    refused = _post(client, url, {**BASELINE_FORM, "kpi_value_per_unit": "2.400,00", "kpi_period": ""})
    assert refused.status_code == 422
    assert "Bitte wählen Sie, auf welchen Zeitraum sich die Kennzahl bezieht" in _text(refused)
    assert 'value="2.400,00"' in _text(refused)  # what was typed is kept
    unreadable = _post(client, url, {**BASELINE_FORM, "kpi_value_per_unit": "zwei", "kpi_period": "month"})
    assert unreadable.status_code == 422 and 'id="kpi_value_per_unit-error"' in _text(unreadable)
    unknown = _post(client, url, {**BASELINE_FORM, "kpi_value_per_unit": "450", "kpi_period": "day"})
    assert unknown.status_code == 422 and 'id="kpi_period-error"' in _text(unknown)
    assert _cycle(session, org, cycle.id).kpi_value_per_unit is None

    saved = _post(client, url, {**BASELINE_FORM, "kpi_value_per_unit": "2.400,00", "kpi_period": "month"})
    assert saved.status_code == 302
    stored = _cycle(session, org, cycle.id)
    assert stored.kpi_value_per_unit == Decimal("2400.00") and stored.kpi_period == Period.month
    page = _text(client.get(f"/o/{org.slug}/cycles/{cycle.id}/"))
    assert "Wert pro Einheit" in page and "2.400 €" in page and "die Kennzahl zählt pro Monat" in page
    # Without a value the period may stay empty, as before.
    assert _post(client, url, {**BASELINE_FORM, "kpi_value_per_unit": "", "kpi_period": ""}).status_code == 302


def test_the_forecast_is_stated_at_the_solution_step(client, session, sabine):
    owner, org = sabine
    cycle = _in(session, org, lambda s: scaled_quoting_cycle(s, owner))
    url = f"/o/{org.slug}/cycles/{cycle.id}/solution"
    form = _text(client.get(url))
    assert "Prognose: die erwartete Wirkung in Zahlen" in form and "Heute: 14 Std." in form
    solution = {"solution_what": "Vorlage", "solution_type": "other", "effort_days": "6"}
    for field, value in (
        ("forecast_hours_per_week", "fünf"),
        ("forecast_kpi", "1.234"),
        ("forecast_cost_per_week", "-3"),
    ):
        refused = _post(client, url, {**solution, field: value})
        assert refused.status_code == 422, field
        assert f'id="{field}-error"' in _text(refused)
    assert _cycle(session, org, cycle.id).forecast_hours_per_week is None

    saved = _post(client, url, {**solution, "forecast_hours_per_week": "5,0", "forecast_kpi": "4"})
    assert saved.status_code == 302
    stored = _cycle(session, org, cycle.id)
    assert (stored.forecast_hours_per_week, stored.forecast_kpi) == (Decimal("5.00"), Decimal("4.0000"))
    assert stored.forecast_cost_per_week is None
    page = _text(client.get(f"/o/{org.slug}/cycles/{cycle.id}/"))
    assert "Prognose: Stunden pro Woche danach" in page
    assert 'id="forecast"' in page
    for expected in (
        "5 Std.",
        "+1 Std.",
        "30.420 €",
        "−3.380 €",
        "27.040 € gemessen ÷ 30.420 € Prognose × 100 = 88,9 %",
    ):
        assert expected in page, expected


def test_another_organizations_cycle_has_no_forms(client, session, sabine, make_user, make_org):
    stranger = make_user(name="Fremd")
    other = make_org("Andere GmbH", owner=stranger)
    cycle = _in(session, other, lambda s: scaled_quoting_cycle(s, stranger))
    for section in ("baseline", "solution"):
        url = f"/o/{sabine[1].slug}/cycles/{cycle.id}/{section}"
        assert client.get(url).status_code == 404
        assert _post(client, url, {"forecast_hours_per_week": "1", "kpi_value_per_unit": "1"}).status_code == 404
    assert _cycle(session, other, cycle.id).forecast_hours_per_week is None


# --- what the pages show ------------------------------------------------------------------------


def test_the_cycle_page_shows_the_contribution_beside_the_savings(client, session, sabine):
    owner, org = sabine
    cycle = _in(session, org, lambda s: lead_scoring_cycle(s, owner))
    page = _text(client.get(f"/o/{org.slug}/cycles/{cycle.id}/"))
    assert "Zusätzlicher Deckungsbeitrag pro Jahr" in page
    assert "(9 − 6) Aufträge pro Monat × 450 € pro Einheit × 12 Monate = 16.200 €" in page
    # The savings are not made up from the orders: no hours were measured.
    assert "Braucht die Stunden pro Woche in der letzten Messung." in page
    table = page[page.index('id="forecast"') :]
    assert "32.400 €" in table and "16.200 €" in table and "−16.200 €" in table


def test_the_print_page_and_the_pdf_show_the_forecast_and_the_contribution(client, session, sabine):
    owner, org = sabine

    def build(s):
        quoting = scaled_quoting_cycle(s, owner, title="Angebote schneller")
        for item in SCALED_CYCLE_INDIRECT_COSTS:
            indirect_service.add_item(s, quoting, item, owner.id)
        state_a_forecast(s, quoting, owner.id)
        return quoting, lead_scoring_cycle(s, owner)

    quoting, leads = _in(session, org, build)
    for cycle, sheet in ((quoting, SCALED_CYCLE_SHEET + SCALED_FORECAST_SHEET), (leads, LEAD_SCORING_SHEET)):
        page = _text(client.get(f"/o/{org.slug}/cycles/{cycle.id}/business-case/print"))
        response = client.get(f"/o/{org.slug}/cycles/{cycle.id}/business-case.pdf")
        reader = PdfReader(io.BytesIO(response.data))
        pdf_text = "\n".join(p.extract_text() for p in reader.pages).replace("\xa0", " ").replace("\u202f", " ")
        assert len(reader.pages) == 1
        for expected in sheet:
            assert expected in page, expected
            # The PDF wraps long formulas: compare its words.
            assert " ".join(expected.split()) in " ".join(pdf_text.split()), expected


def test_the_dashboard_shows_the_forecast_accuracy(client, session, sabine):
    owner, org = sabine

    def build(s):
        cycle = scaled_quoting_cycle(s, owner)
        state_a_forecast(s, cycle, owner.id)
        trends.recompute(s)

    _in(session, org, build)
    page = _text(client.get(f"/o/{org.slug}/"))
    assert "Prognosegenauigkeit 88,9 %, aus 1 Zyklus mit Prognose und Ergebnis" in page


def test_the_portfolio_shows_and_sorts_by_the_forecast_accuracy(client, session, login, make_user, make_org):
    petra = make_user(name="Petra Weber")
    consultancy = make_org("Weber & Partner", owner=petra, kind=OrgKind.consultancy)
    accuracies = {"Kunde A": "40.0", "Kunde B": None, "Kunde C": "88.9"}
    for name, accuracy in accuracies.items():
        owner = make_user()
        org = make_org(name, owner=owner)
        session.add(ClientAccess(consultancy_id=consultancy.id, client_id=org.id, level=AccessLevel.read))
        with tenancy.tenant_context(session, org.id):
            scaled_quoting_cycle(session, owner)
            if accuracy is not None:
                cycle = session.query(Cycle).one()
                cycle.forecast_hours_per_week = Decimal(5) if accuracy == "88.9" else Decimal(1)
            trends.recompute(session)
        session.commit()
    login(petra)
    url = f"/o/{consultancy.slug}/portfolio"
    page = _text(client.get(url))
    assert "Prognosegenauigkeit" in page and "88,9 %" in page and "(1)" in page
    names = re.findall(
        r'class="portfolio__client" href="/o/[a-z0-9-]+/">([^<]+)<', _text(client.get(f"{url}?sort=forecast"))
    )
    assert names == ["Kunde C", "Kunde A", "Kunde B"]


# --- query counts --------------------------------------------------------------------------------


def test_the_cycle_page_query_count_does_not_grow_with_forecast_cycles(client, session, sabine, count_queries):
    owner, org = sabine
    cycle = _in(session, org, lambda s: lead_scoring_cycle(s, owner))
    url = f"/o/{org.slug}/cycles/{cycle.id}/"

    def count() -> int:
        client.get(url)
        refresh()
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    small = count()

    def grow(s):
        for i in range(20):
            other = lead_scoring_cycle(s, owner, title=f"Aufträge {i}")
            for day in range(3):
                s.add(Measurement(cycle_id=other.id, measured_on=date.today() - timedelta(days=day), kpi_value=7))
            s.add(Measurement(cycle_id=cycle.id, measured_on=date.today() - timedelta(days=i + 1), kpi_value=i))
        trends.recompute(s)

    _in(session, org, grow)
    assert count() == small
    assert _cycle(session, org, cycle.id).stage == Stage.result
