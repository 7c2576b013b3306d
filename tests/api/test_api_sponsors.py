"""The sponsor and the decision over the API: who may be named, who may decide, the lessons in the document."""

import pytest

from engpass import tenancy
from engpass.cycles.models import Cycle, Stage
from engpass.organizations.models import Role
from tests.support.api import NEW_CYCLE, bearer, in_org, make_token
from tests.support.cycles import lead_scoring_cycle

LESSONS = {"lessons_worked": "Die Vorlage.", "lessons_failed": "Der Export.", "lessons_differently": "Früher messen."}
DECISION = {"decision": "scale", "decision_reason": "Wirkt", **LESSONS}


@pytest.fixture
def world(session, make_user, make_org):
    owner, aylin, kurt, jonas = (make_user(name=n) for n in ("Sabine Keller", "Aylin Kaya", "Kurt Admin", "Jonas"))
    org = make_org("Keller Metall GmbH", owner=owner, members={aylin: Role.admin, kurt: Role.admin, jonas: Role.member})
    stranger = make_user(name="Fremd")
    make_org("Andere GmbH", owner=stranger)
    people = {"owner": owner, "sponsor": aylin, "admin": kurt, "member": jonas, "stranger": stranger}
    tokens = {who: make_token(session, org, user) for who, user in people.items() if who != "stranger"}

    def measured(session):
        cycle = lead_scoring_cycle(session, owner)
        cycle.sponsor_id = aylin.id
        return cycle.id

    cycle_id = in_org(session, org, measured)

    def call(client, who, method, url, **kwargs):
        return client.open(f"/api/v1{url}", method=method, headers=bearer(tokens[who]), **kwargs)

    return org, people, cycle_id, call


def test_a_new_cycle_is_backed_by_its_owner_or_admin_creator_and_optional_otherwise(client, world):
    org, people, _cycle_id, call = world
    by_admin = call(client, "admin", "POST", "/cycles", json={**NEW_CYCLE, "confirm_second_open": True})
    assert by_admin.status_code == 201
    assert (by_admin.json["sponsor_id"], by_admin.json["sponsor_name"]) == (people["admin"].id, "Kurt Admin")
    # Existing clients that know nothing of sponsors keep working: a member's cycle waits for one.
    by_member = call(client, "member", "POST", "/cycles", json={**NEW_CYCLE, "confirm_second_open": True})
    assert by_member.status_code == 201 and by_member.json["sponsor_id"] is None
    named = call(
        client,
        "member",
        "POST",
        "/cycles",
        json={**NEW_CYCLE, "confirm_second_open": True, "sponsor_id": people["sponsor"].id},
    )
    assert named.status_code == 201 and named.json["sponsor_name"] == "Aylin Kaya"


@pytest.mark.parametrize("who", ["member", "stranger"])
def test_a_sponsor_who_is_no_owner_or_admin_here_is_refused_alike(client, world, who):
    org, people, cycle_id, call = world
    for method, url, body in (
        ("POST", "/cycles", {**NEW_CYCLE, "confirm_second_open": True}),
        ("PATCH", f"/cycles/{cycle_id}", {}),
    ):
        response = call(client, "owner", method, url, json={**body, "sponsor_id": people[who].id})
        assert response.status_code == 409, response.text
        (error,) = response.json["errors"]
        assert error["field"] == "sponsor_id"
        assert error["message"] == "Bitte wählen Sie als Sponsor einen Inhaber oder Administrator dieser Organisation."


def test_the_sponsor_is_changed_and_cleared(client, session, world):
    org, people, cycle_id, call = world
    changed = call(client, "member", "PATCH", f"/cycles/{cycle_id}", json={"sponsor_id": people["admin"].id})
    assert changed.status_code == 200 and changed.json["sponsor_name"] == "Kurt Admin"
    cleared = call(client, "member", "PATCH", f"/cycles/{cycle_id}", json={"sponsor_id": None})
    assert cleared.status_code == 200 and cleared.json["sponsor_id"] is None


@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("sponsor", 200), ("admin", 403), ("member", 403)])
def test_only_the_sponsor_or_an_owner_decides(client, session, world, who, status):
    org, _people, cycle_id, call = world
    response = call(client, who, "PATCH", f"/cycles/{cycle_id}", json=DECISION)
    assert response.status_code == status, response.text
    if status == 403:
        assert response.mimetype == "application/problem+json"
        assert "Sponsor" in response.json["detail"]
    else:
        assert response.json["stage"] == "decided"
        assert {name: response.json[name] for name in LESSONS} == LESSONS
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        assert (session.get(Cycle, cycle_id).stage == Stage.decided) == (status == 200)


def test_a_decision_without_lessons_is_a_rule_violation(client, world):
    _org, _people, cycle_id, call = world
    response = call(client, "sponsor", "PATCH", f"/cycles/{cycle_id}", json={**DECISION, "lessons_failed": None})
    assert response.status_code == 409
    assert "Halten Sie fest, was Sie gelernt haben" in response.json["detail"]


def test_entering_decided_through_the_stage_operation_is_the_deciders_too(client, world):
    _org, _people, cycle_id, call = world
    assert call(client, "owner", "PATCH", f"/cycles/{cycle_id}", json=DECISION).status_code == 200
    assert call(client, "owner", "POST", f"/cycles/{cycle_id}/stage", json={"stage": "result"}).status_code == 200
    assert call(client, "admin", "POST", f"/cycles/{cycle_id}/stage", json={"stage": "decided"}).status_code == 403
    assert call(client, "sponsor", "POST", f"/cycles/{cycle_id}/stage", json={"stage": "decided"}).status_code == 200
