"""The organization's settings over the API: every member reads the hourly rate the business case uses,
admins and owners change it through the settings page's domain function, and an API client then gets the
very figure the web shows. Numbers in strings follow the API's one notation; implausible figures need
``confirm_implausible``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import refresh
from sqlalchemy import select

from engpass import task_names, tenancy
from engpass.audit.models import AuditEvent
from engpass.organizations.models import Organization, Role
from engpass.trends.models import TrendState
from tests.support.api import bearer, in_org, make_token
from tests.support.cycles import scaled_quoting_cycle

SETTINGS = {
    "name": "Müller Metallbau GmbH",
    "slug": "mueller-metallbau-gmbh",
    "locale": "de",
    "timezone": "Europe/Berlin",
    "currency": "EUR",
    "default_hourly_rate": "65.00",
    "working_weeks_per_year": 52,
}


@pytest.fixture
def company(session, make_user, make_org):
    """Müller Metallbau with Sabine's decided cycle and one person per role."""
    people = {role: make_user(name=f"{role.value} Person") for role in Role}
    owner = people[Role.owner]
    org = make_org("Müller Metallbau GmbH", owner=owner, members={people[r]: r for r in Role if r != Role.owner})
    cycle = in_org(session, org, lambda s: scaled_quoting_cycle(s, owner))
    return org, people, cycle


def _call(client, token, method, url="/api/v1/organization", **kwargs):
    refresh()
    return client.open(url, method=method, headers=bearer(token), **kwargs)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_settings_the_business_case_depends_on(client, session, company, role):
    org, people, _cycle = company
    response = _call(client, make_token(session, org, people[role]), "GET")
    assert response.status_code == 200, response.text
    assert response.json == {**SETTINGS, "slug": org.slug}


@pytest.mark.parametrize("role", [Role.member, Role.viewer])
def test_members_and_viewers_cannot_change_them(client, session, company, role):
    org, people, _cycle = company
    response = _call(client, make_token(session, org, people[role]), "PATCH", json={"default_hourly_rate": 50})
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    session.expire_all()
    assert session.get(Organization, org.id).default_hourly_rate == Decimal("65.00")


@pytest.mark.parametrize("role", [Role.admin, Role.owner])
def test_a_new_rate_through_the_api_gives_the_webs_business_case(client, session, login, company, publisher, role):
    org, people, cycle = company
    cycle_id, token = cycle.id, make_token(session, org, people[role])
    with tenancy.tenant_context(session, org.id):
        version = session.scalars(select(TrendState.version)).one_or_none() or 0
    response = _call(client, token, "PATCH", json={"default_hourly_rate": "50.00", "name": "Müller Metallbau AG"})
    assert response.status_code == 200, response.text
    assert response.json["default_hourly_rate"] == "50.00" and response.json["name"] == "Müller Metallbau AG"

    # The same domain function as the settings page: audited, and the whole trend revalued.
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "organization.updated")).one()
        assert event.actor_id == people[role].id
        assert event.details["changes"]["default_hourly_rate"] == ["65.00", "50.00"]
        assert session.scalars(select(TrendState.version)).one() == version + 1
    assert task_names.RECOMPUTE_TRENDS in [name for name, _kwargs, _id in publisher.published]

    # 8 hours saved a week × 50 € × 52 weeks: the API's figure is the cycle page's.
    case = _call(client, token, "GET", f"/api/v1/cycles/{cycle_id}/business-case").json
    assert case["hourly_rate"] == "50.00" and case["savings_per_year"] == "20800.00"
    login(people[Role.owner])
    refresh()
    page = client.get(f"/o/{org.slug}/cycles/{cycle_id}/").get_data(as_text=True).replace("\xa0", " ")
    assert "8 Std./Woche × 50 € × 52 Arbeitswochen = 20.800 €" in page


def test_working_weeks_through_the_api_give_the_webs_yearly_figures(client, session, login, company, publisher):
    org, people, cycle = company
    cycle_id, token = cycle.id, make_token(session, org, people[Role.admin])
    case = _call(client, token, "GET", f"/api/v1/cycles/{cycle_id}/business-case").json
    assert case["working_weeks_per_year"] == 52
    assert case["status_quo_cost"] == {
        "per_year": "47320.00",
        "hours": "47320.00",
        "direct_cost": None,
        "indirect_cost": None,
        "guessed_cost": "0.00",
        "guessed_share": "0.0",
        "guessed_item_ids": [],
    }
    response = _call(client, token, "PATCH", json={"working_weeks_per_year": 46})
    assert response.status_code == 200, response.text
    assert response.json["working_weeks_per_year"] == 46
    with tenancy.tenant_context(session, org.id):
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "organization.updated")).one()
        assert event.details["changes"] == {"working_weeks_per_year": [52, 46]}
    assert task_names.RECOMPUTE_TRENDS in [name for name, _kwargs, _id in publisher.published]

    # Sabine's cycle at 46 weeks (docs/business-case.md): 8 × 65 × 46 saved, 14 × 65 × 46 the status quo.
    case = _call(client, token, "GET", f"/api/v1/cycles/{cycle_id}/business-case").json
    assert case["savings_per_year"] == "23920.00" and case["payback_weeks"] == "6.0"
    assert case["status_quo_cost"]["per_year"] == "41860.00"
    login(people[Role.owner])
    refresh()
    page = client.get(f"/o/{org.slug}/cycles/{cycle_id}/").get_data(as_text=True).replace("\xa0", " ")
    assert "8 Std./Woche × 65 € × 46 Arbeitswochen = 23.920 €" in page
    assert "3.120 € ÷ (23.920 € ÷ 46 Arbeitswochen) = 6 Wochen" in page
    assert "Kosten des Ist-Zustands pro Jahr" in page
    assert "14 Std./Woche × 65 € × 46 Arbeitswochen = 41.860 €" in page
    assert "65 € und 46 Arbeitswochen pro Jahr" in page


def test_another_organizations_token_sees_only_its_own(client, session, company, make_user, make_org):
    _org, _people, _cycle = company
    stranger = make_user()
    theirs = make_org("Andere GmbH", owner=stranger)
    token = make_token(session, theirs, stranger)
    body = _call(client, token, "GET").json
    assert body["name"] == "Andere GmbH" and "Müller" not in str(body)
    assert _call(client, token, "PATCH", json={"default_hourly_rate": 1}).status_code == 200
    session.expire_all()
    assert session.get(Organization, _org.id).default_hourly_rate == Decimal("65.00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, ""),
        ({"confirm_implausible": True}, ""),
        ({"default_hourly_rate": "50,00"}, "default_hourly_rate"),
        ({"default_hourly_rate": "1,234"}, "default_hourly_rate"),
        ({"default_hourly_rate": "1e3"}, "default_hourly_rate"),
        ({"default_hourly_rate": "NaN"}, "default_hourly_rate"),
        ({"default_hourly_rate": -1}, "default_hourly_rate"),
        ({"default_hourly_rate": 10000}, "default_hourly_rate"),
        ({"default_hourly_rate": True}, "default_hourly_rate"),
        ({"working_weeks_per_year": 0}, "working_weeks_per_year"),
        ({"working_weeks_per_year": 54}, "working_weeks_per_year"),
        ({"working_weeks_per_year": 46.5}, "working_weeks_per_year"),
        ({"working_weeks_per_year": "46"}, "working_weeks_per_year"),
        ({"currency": "BTC"}, "currency"),
        ({"locale": "fr"}, "locale"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "  "}, "name"),
        ({"slug": "gekapert"}, "slug"),
    ],
)
def test_bad_input_is_a_422_problem_naming_the_field(client, session, company, body, field):
    org, people, _cycle = company
    response = _call(client, make_token(session, org, people[Role.owner]), "PATCH", json=body)
    assert response.status_code == 422, response.text
    assert response.mimetype == "application/problem+json"
    assert field in [error["field"] for error in response.json["errors"]]
    session.expire_all()
    assert session.get(Organization, org.id).default_hourly_rate == Decimal("65.00")


def test_a_string_in_the_apis_notation_names_the_notation(client, session, company):
    org, people, _cycle = company
    token = make_token(session, org, people[Role.owner])
    response = _call(client, token, "PATCH", json={"default_hourly_rate": "1,234"})
    [error] = response.json["errors"]
    assert error["message"] == "„1,234“ lässt sich nicht als Zahl lesen. Bitte schreiben Sie sie wie 1234.5."
    assert _call(client, token, "PATCH", json={"default_hourly_rate": " 72.5 "}).json["default_hourly_rate"] == "72.50"


def test_a_rate_above_500_needs_confirm_implausible(client, session, company):
    org, people, _cycle = company
    token = make_token(session, org, people[Role.admin])
    response = _call(client, token, "PATCH", json={"default_hourly_rate": 5000})
    assert response.status_code == 409
    assert response.json["type"].endswith("#problem-implausible")
    [error] = response.json["errors"]
    assert error["field"] == "default_hourly_rate" and error["pointer"] == "#/default_hourly_rate"
    assert "pro Stunde liegt weit über dem" in error["message"]
    assert "confirm_implausible" in response.json["detail"]
    session.expire_all()
    assert session.get(Organization, org.id).default_hourly_rate == Decimal("65.00")
    response = _call(client, token, "PATCH", json={"default_hourly_rate": 5000, "confirm_implausible": True})
    assert response.status_code == 200 and response.json["default_hourly_rate"] == "5000.00"


def test_implausible_cycle_and_measurement_figures_need_confirmation_too(client, session, company):
    org, people, cycle = company
    token = make_token(session, org, people[Role.owner])
    url = f"/api/v1/cycles/{cycle.id}"
    # 14 h × 65 € = 910 €: the labour cost the hours already carry.
    response = _call(client, token, "PATCH", url, json={"direct_cost_per_week": "910.00"})
    assert response.status_code == 409
    assert [e["field"] for e in response.json["errors"]] == ["direct_cost_per_week"]
    response = _call(client, token, "PATCH", url, json={"hours_per_week": 200, "confirm_implausible": True})
    assert response.status_code == 200 and response.json["hours_per_week"] == "200.00"
    # Confirmed once: a change elsewhere, or the same figure again, asks nothing.
    assert _call(client, token, "PATCH", url, json={"kpi_name": "Tage", "hours_per_week": 200}).status_code == 200
    response = _call(client, token, "PATCH", url, json={"hours_per_week": 201})
    assert response.status_code == 409 and response.json["errors"][0]["field"] == "hours_per_week"
    measured = {"measured_on": "2026-12-01", "kpi_value": 4, "cost_per_week": 2_000_000}
    response = _call(client, token, "POST", f"{url}/measurements", json=measured)
    assert response.status_code == 409 and response.json["errors"][0]["field"] == "cost_per_week"
