"""Indirect cost items over the API: added, changed and deleted like on the cycle page, listed with the cycle,
summed with the share resting on guesses in the business case; the derived weekly figure is not writable."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.cycles.models import Cycle, IndirectCostItem
from engpass.organizations.models import Organization, Role
from engpass.organizations.service import add_member
from tests.support.api import BASELINE, NEW_CYCLE, bearer, in_org, make_token

ERRORS = {
    "label": "Nacharbeit an Angeboten",
    "kind": "errors",
    "quantity": 6,
    "unit_value": "85.00",
    "period": "month",
    "source": "measured",
    "source_note": "Gutschriften 2026",
}
PENALTY = {"label": "Vertragsstrafe", "kind": "penalties", "quantity": 1, "unit_value": 5000, "period": "year"}


@pytest.fixture
def api(client, session, make_user, make_org):
    owner = make_user()
    org = make_org("Keller Metall GmbH", owner=owner)
    token = make_token(session, org, owner)

    def call(method, url, **kwargs):
        return client.open(f"/api/v1{url}", method=method, headers=bearer(token), **kwargs)

    cycle = call("POST", "/cycles", json=NEW_CYCLE).json
    assert call("PATCH", f"/cycles/{cycle['id']}", json=BASELINE).status_code == 200
    return call, cycle["id"], org


def _errors(response, status):
    assert response.status_code == status, response.text
    assert response.mimetype == "application/problem+json"
    return {error["field"]: error["message"] for error in response.json["errors"]}


def test_items_are_added_listed_summed_changed_and_deleted(api, session):
    call, cycle_id, org = api
    added = call("POST", f"/cycles/{cycle_id}/indirect-costs", json=ERRORS)
    assert added.status_code == 201, added.text
    item = added.json
    assert item["cost_per_year"] == "6120.00" and item["currency"] == "EUR"
    assert item["formula"].replace("\xa0", " ") == "6 Fehler × 85 € je Fehler pro Monat × 12 Monate = 6.120 €"
    assert (item["kind"], item["quantity"], item["unit_value"], item["people_affected"]) == (
        "errors",
        "6.00",
        "85.00",
        None,
    )
    guess = call("POST", f"/cycles/{cycle_id}/indirect-costs", json={**PENALTY, "source": "guess"}).json

    cycle = call("GET", f"/cycles/{cycle_id}").json
    assert [i["id"] for i in cycle["indirect_cost_items"]] == [item["id"], guess["id"]]
    # 6,120 + 5,000 = 11,120 a year ÷ 52 working weeks
    assert cycle["indirect_cost_per_week"] == "213.85"
    status_quo = call("GET", f"/cycles/{cycle_id}/business-case").json["status_quo_cost"]
    # 14 × 65 × 52 = 47,320 + 11,120 = 58,440; the penalty's 5,000 is 8.6 % of it.
    assert status_quo == {
        "per_year": "58440.00",
        "hours": "47320.00",
        "direct_cost": None,
        "indirect_cost": "11120.00",
        "guessed_cost": "5000.00",
        "guessed_share": "8.6",
        "guessed_item_ids": [guess["id"]],
    }

    changed = call(
        "PATCH",
        f"/cycles/{cycle_id}/indirect-costs/{item['id']}",
        json={"kind": "waiting", "quantity": 2, "people_affected": 3, "period": "week"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json["unit_value"] is None and changed.json["cost_per_year"] == "20280.00"  # 2 × 3 × 65 × 52
    assert call("DELETE", f"/cycles/{cycle_id}/indirect-costs/{guess['id']}").status_code == 204
    assert call("GET", f"/cycles/{cycle_id}").json["indirect_cost_per_week"] == "390.00"
    with tenancy.tenant_context(session, org.id):
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("indirect_cost.%")).order_by(AuditEvent.id)
        ).all()
    assert actions == ["indirect_cost.added", "indirect_cost.added", "indirect_cost.updated", "indirect_cost.deleted"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ERRORS, "kind": "bribes"}, "kind"),
        ({**ERRORS, "period": "decade"}, "period"),
        ({**ERRORS, "source": None}, "source"),
        ({**ERRORS, "quantity": -1}, "quantity"),
        ({**ERRORS, "unit_value": "1,5"}, "unit_value"),
        ({**ERRORS, "people_affected": 0}, "people_affected"),
        ({**ERRORS, "people_affected": 2.5}, "people_affected"),
        ({**ERRORS, "label": "x" * 201}, "label"),
        ({**ERRORS, "source_note": "a\nb"}, "source_note"),
        ({key: value for key, value in ERRORS.items() if key != "source"}, "source"),
    ],
)
def test_invalid_items_are_422_per_field_and_nothing_is_saved(api, session, body, field):
    call, cycle_id, org = api
    assert field in _errors(call("POST", f"/cycles/{cycle_id}/indirect-costs", json=body), 422)
    with tenancy.tenant_context(session, org.id):
        assert session.scalar(select(func.count(IndirectCostItem.id))) == 0


def test_a_number_the_kind_needs_is_a_409_naming_it(api):
    call, cycle_id, _org = api
    lacking = {**ERRORS, "unit_value": None}
    assert _errors(call("POST", f"/cycles/{cycle_id}/indirect-costs", json=lacking), 409) == {
        "unit_value": "Bitte geben Sie den Betrag ein."
    }
    waiting = {**ERRORS, "kind": "waiting"}
    assert "people_affected" in _errors(call("POST", f"/cycles/{cycle_id}/indirect-costs", json=waiting), 409)
    item = call("POST", f"/cycles/{cycle_id}/indirect-costs", json=ERRORS).json
    to_waiting = call("PATCH", f"/cycles/{cycle_id}/indirect-costs/{item['id']}", json={"kind": "waiting"})
    assert "people_affected" in _errors(to_waiting, 409)


def test_the_derived_weekly_figure_is_refused_pointing_to_the_items(api):
    call, cycle_id, _org = api
    errors = _errors(call("PATCH", f"/cycles/{cycle_id}", json={"indirect_cost_per_week": 100}), 422)
    assert "/indirect-costs" in errors["indirect_cost_per_week"]
    assert call("GET", f"/cycles/{cycle_id}").json["indirect_cost_per_week"] is None


def test_another_organizations_or_cycles_items_are_404(api, client, session, make_user, make_org):
    call, cycle_id, org = api
    other_cycle = call("POST", "/cycles", json={**NEW_CYCLE, "confirm_second_open": True}).json["id"]
    sibling_item = call("POST", f"/cycles/{other_cycle}/indirect-costs", json=ERRORS).json["id"]
    stranger = make_user()
    their_org = make_org("Fremde AG", owner=stranger)
    their_token = make_token(session, their_org, stranger)
    their_cycle = client.post("/api/v1/cycles", json=NEW_CYCLE, headers=bearer(their_token)).json["id"]
    their_item = client.post(
        f"/api/v1/cycles/{their_cycle}/indirect-costs", json=ERRORS, headers=bearer(their_token)
    ).json["id"]
    for item_id in (sibling_item, their_item, 999_999):
        assert call("PATCH", f"/cycles/{cycle_id}/indirect-costs/{item_id}", json={"label": "x"}).status_code == 404
        assert call("DELETE", f"/cycles/{cycle_id}/indirect-costs/{item_id}").status_code == 404
    assert call("POST", f"/cycles/{their_cycle}/indirect-costs", json=ERRORS).status_code == 404
    with tenancy.tenant_context(session, their_org.id):
        assert session.get(IndirectCostItem, their_item).label == "Nacharbeit an Angeboten"


def test_viewers_read_the_items_but_cannot_change_them(api, client, session, make_user):
    call, cycle_id, org = api
    item = call("POST", f"/cycles/{cycle_id}/indirect-costs", json=ERRORS).json
    viewer = make_user()
    add_member(session, session.get(Organization, org.id), viewer, Role.viewer)
    session.commit()
    headers = bearer(make_token(session, org, viewer))
    assert client.get(f"/api/v1/cycles/{cycle_id}", headers=headers).json["indirect_cost_items"][0]["id"] == item["id"]
    assert client.post(f"/api/v1/cycles/{cycle_id}/indirect-costs", json=ERRORS, headers=headers).status_code == 403
    assert in_org(session, org, lambda s: s.get(Cycle, cycle_id).indirect_cost_per_week) == Decimal("117.69")


def test_items_that_together_exceed_the_weekly_column_are_a_409_and_nothing_is_saved(api, session):
    call, cycle_id, org = api
    huge = {"kind": "other", "unit_value": "999999999990.00", "period": "week", "source": "guess"}
    assert call("POST", f"/cycles/{cycle_id}/indirect-costs", json=huge).status_code == 201
    refused = call("POST", f"/cycles/{cycle_id}/indirect-costs", json=huge | {"unit_value": "10.00"})
    assert _errors(refused, 409) == {"unit_value": refused.json["errors"][0]["message"]}
    assert "mehr pro Woche" in refused.json["detail"]
    with tenancy.tenant_context(session, org.id):
        assert session.scalar(select(func.count(IndirectCostItem.id))) == 1
