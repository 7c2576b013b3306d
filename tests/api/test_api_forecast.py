"""The KPI's value per unit and the forecast over the API: PATCH, the computed figures, bad input,
other organizations' cycles, and the organization's forecast accuracy on the overview."""

from datetime import date, timedelta

import pytest

from engpass.trends.service import recompute
from tests.support.api import BASELINE, NEW_CYCLE, bearer, in_org, make_token
from tests.support.cycles import scaled_quoting_cycle

LEADS = {
    "kpi_name": "Aufträge pro Monat",
    "kpi_unit": "Aufträge",
    "kpi_direction": "higher",
    "kpi_baseline": 6,
    "kpi_target": 12,
    "kpi_value_per_unit": "450.00",
    "kpi_period": "month",
}


@pytest.fixture
def world(session, make_user, make_org):
    class World:
        owner = make_user(name="Sabine Keller")
        org = make_org("Keller Metall GmbH", owner=owner)
        token = make_token(session, org, owner)

        def call(self, client, method, url, **kwargs):
            return client.open(f"/api/v1{url}", method=method, headers=bearer(self.token), **kwargs)

    return World()


def _measured_lead_cycle(client, world, orders_now: int) -> int:
    cycle_id = world.call(client, "POST", "/cycles", json=NEW_CYCLE).json["id"]
    assert world.call(client, "PATCH", f"/cycles/{cycle_id}", json={**BASELINE, **LEADS}).status_code == 200
    solution = {"solution_what": "Lead-Scoring", "solution_type": "lead_scoring", "forecast_kpi": 12}
    assert world.call(client, "PATCH", f"/cycles/{cycle_id}", json=solution).status_code == 200
    start = (date.today() - timedelta(days=10)).isoformat()
    assert world.call(client, "PATCH", f"/cycles/{cycle_id}", json={"prototype_start": start}).status_code == 200
    measured = {"measured_on": date.today().isoformat(), "kpi_value": orders_now}
    assert world.call(client, "POST", f"/cycles/{cycle_id}/measurements", json=measured).status_code == 201
    return cycle_id


def test_the_kpis_value_gives_the_additional_contribution_beside_the_savings(client, world):
    """docs/business-case.md: (9 − 6) × 450 × 12 = 16,200 €; forecast 12: 32,400 €."""
    cycle_id = _measured_lead_cycle(client, world, 9)
    body = world.call(client, "GET", f"/cycles/{cycle_id}").json
    assert body["kpi_value_per_unit"] == "450.00" and body["kpi_period"] == "month"
    assert body["additional_contribution_per_year"] == "16200.00"
    assert body["forecast"]["contribution_per_year"] == {
        "forecast": "32400.00",
        "actual": "16200.00",
        "deviation": "-16200.00",
    }
    assert body["forecast"]["kpi"] == {"forecast": "12.0000", "actual": "9.0000", "deviation": "-3.0000"}
    case = world.call(client, "GET", f"/cycles/{cycle_id}/business-case").json
    assert case["additional_contribution_per_year"] == "16200.00"
    # The contribution is never added to the savings: no hours were measured, so there are none.
    assert case["savings_per_year"] is None and case["payback_weeks"] is None
    listed = world.call(client, "GET", "/cycles").json["items"]
    assert listed[0]["additional_contribution_per_year"] == "16200.00"


def test_sabines_forecast_over_the_api(client, session, world):
    cycle = in_org(session, world.org, lambda s: scaled_quoting_cycle(s, world.owner))
    response = world.call(client, "PATCH", f"/cycles/{cycle.id}", json={"forecast_hours_per_week": "5"})
    assert response.status_code == 200
    forecast = response.json["forecast"]
    assert forecast["stated"] is True
    assert forecast["hours_per_week"] == {"forecast": "5.00", "actual": "6.00", "deviation": "1.00"}
    assert forecast["savings_per_year"] == {"forecast": "30420.00", "actual": "27040.00", "deviation": "-3380.00"}
    assert forecast["achieved_share_percent"] == "88.9"


def test_bad_values_are_refused_and_nothing_is_saved(client, world):
    cycle_id = world.call(client, "POST", "/cycles", json=NEW_CYCLE).json["id"]
    for body, field in (
        ({"kpi_value_per_unit": "1,234"}, "kpi_value_per_unit"),
        ({"kpi_value_per_unit": -5}, "kpi_value_per_unit"),
        ({"kpi_period": "day"}, "kpi_period"),
        ({"forecast_hours_per_week": "viele"}, "forecast_hours_per_week"),
        ({"forecast_cost_per_week": 10**13}, "forecast_cost_per_week"),
    ):
        refused = world.call(client, "PATCH", f"/cycles/{cycle_id}", json=body)
        assert refused.status_code == 422, body
        assert [e["field"] for e in refused.json["errors"]] == [field]
    # A value without the span it counts per cannot be made yearly.
    refused = world.call(client, "PATCH", f"/cycles/{cycle_id}", json={**BASELINE, "kpi_value_per_unit": 450})
    assert refused.status_code == 409 and refused.json["errors"][0]["field"] == "kpi_period"
    kept = world.call(client, "GET", f"/cycles/{cycle_id}").json
    assert kept["kpi_value_per_unit"] is None and kept["hours_per_week"] is None


def test_another_organizations_cycle_is_not_found(client, session, world, make_user, make_org):
    stranger = make_user(name="Fremd")
    other = make_org("Andere GmbH", owner=stranger)
    cycle = in_org(session, other, lambda s: scaled_quoting_cycle(s, stranger))
    assert world.call(client, "PATCH", f"/cycles/{cycle.id}", json={"forecast_kpi": 3}).status_code == 404
    assert world.call(client, "GET", f"/cycles/{cycle.id}/business-case").status_code == 404


def test_the_overview_gives_the_organizations_forecast_accuracy(client, session, world):
    cycle = in_org(session, world.org, lambda s: scaled_quoting_cycle(s, world.owner))
    world.call(client, "PATCH", f"/cycles/{cycle.id}", json={"forecast_hours_per_week": "5"})
    in_org(session, world.org, lambda s: recompute(s, full=True))
    body = world.call(client, "GET", "/dashboard").json
    # One cycle, 11.1 % off its forecast.
    assert body["forecast_accuracy"] == {"percent": "88.9", "cycles": 1}
