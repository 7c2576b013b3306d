"""Bottleneck candidates over the API: the ranked, paged backlog, proposing with unknown numbers, the
proposer's and the managers' edits, merge, pick (the cycle with the draft status quo), dismiss and reopen,
bad input as problem+json and another organization's candidates as missing ones."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from engpass import tenancy
from engpass.candidates import service
from engpass.candidates.models import Candidate
from engpass.cycles.models import Cycle
from engpass.organizations.models import Role
from tests.support.api import bearer, in_org, make_token


@pytest.fixture
def world(session, make_user, make_org):
    class World:
        owner = make_user(name="Sabine Keller")
        member = make_user(name="Max Mitglied")
        org = make_org("Keller Metall GmbH", owner=owner, members={member: Role.member})
        tokens = {"owner": make_token(session, org, owner), "member": make_token(session, org, member)}

        def call(self, client, method, url, who="owner", **kwargs):
            return client.open(f"/api/v1{url}", method=method, headers=bearer(self.tokens[who]), **kwargs)

        def propose(self, title, by=None, **data):
            user = by or self.member
            return in_org(session, self.org, lambda s: service.propose(s, {"title": title, **data}, user.id)).id

        def candidate(self, candidate_id):
            session.expunge_all()
            with tenancy.tenant_context(session, self.org.id):
                return session.get(Candidate, candidate_id)

    return World()


def test_proposing_needs_only_a_title_and_answers_the_document(client, world):
    response = world.call(client, "POST", "/candidates", who="member", json={"title": "Angebote dauern 9 Tage"})
    assert response.status_code == 201, response.text
    body = response.json
    assert body["status"] == "open" and body["category"] == "other" and body["effort"] == "unknown"
    assert body["hours_per_week"] is None and body["cost_per_year"] is None
    assert body["proposer_name"] == "Max Mitglied" and body["currency"] == "EUR"
    assert response.headers["Location"].endswith(f"/api/v1/candidates/{body['id']}")
    response = world.call(
        client, "POST", "/candidates", json={"title": "Reklamationen", "hours_per_week": "8", "cost_per_week": 200}
    )
    assert response.json["cost_per_year"] == "37440.00"  # (8 × 65 + 200) × 52
    assert "Arbeitswochen" in response.json["cost_formula"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": "  "}, "title"),
        ({"title": "x", "hours_per_week": "1,5"}, "hours_per_week"),
        ({"title": "x", "cost_per_week": -1}, "cost_per_week"),
        ({"title": "x", "effort": "huge"}, "effort"),
        ({"title": "x", "category": 3}, "category"),
        ({"title": "x\ny"}, "title"),
    ],
)
def test_bad_input_is_a_422_problem_naming_the_field(client, world, body, field):
    response = world.call(client, "POST", "/candidates", json=body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in {error["field"] for error in response.json["errors"]}


def test_the_list_is_ranked_and_paged_with_unknowns_last(client, world):
    ids = {
        "unknown": world.propose("Unbekannt"),
        "small": world.propose("Klein", hours_per_week=Decimal(1)),
        "big": world.propose("Groß", cost_per_week=Decimal(1000)),
        "middle": world.propose("Mittel", hours_per_week=Decimal(5)),
        "zero": world.propose("Null", cost_per_week=Decimal(0)),
    }
    seen = []
    url = "/candidates?limit=2"
    while url:
        response = world.call(client, "GET", url)
        assert response.status_code == 200
        seen += [item["id"] for item in response.json["items"]]
        url = response.json["next"] and response.json["next"].split("/api/v1", 1)[1]
    assert seen == [ids["big"], ids["middle"], ids["small"], ids["zero"], ids["unknown"]]
    bad = world.call(client, "GET", "/candidates?cursor=abc")
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "cursor"
    assert world.call(client, "GET", "/candidates?status=nope").status_code == 422


def test_members_patch_their_own_owners_anyones(client, world):
    own = world.propose("Meins")
    others = world.propose("Fremd", by=world.owner)
    assert (
        world.call(client, "PATCH", f"/candidates/{own}", who="member", json={"hours_per_week": 3}).status_code == 200
    )
    refused = world.call(client, "PATCH", f"/candidates/{others}", who="member", json={"title": "Gekapert"})
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert world.call(client, "PATCH", f"/candidates/{own}", json={"effort": "small"}).json["effort"] == "small"
    assert world.call(client, "PATCH", f"/candidates/{own}", json={}).status_code == 422
    assert world.candidate(others).title == "Fremd" and world.candidate(own).hours_per_week == Decimal(3)


def test_merge_dismiss_reopen_and_pick(client, world):
    kept = world.propose("Angebote langsam", hours_per_week=Decimal(8))
    duplicate = world.propose("Angebote dauern", cost_per_week=Decimal(100))
    assert (
        world.call(client, "POST", f"/candidates/{duplicate}/merge", who="member", json={"into_id": kept}).status_code
        == 403
    )
    response = world.call(client, "POST", f"/candidates/{duplicate}/merge", json={"into_id": kept})
    assert response.status_code == 200 and response.json["id"] == kept and response.json["cost_per_week"] == "100.00"
    assert world.call(client, "POST", f"/candidates/{duplicate}/merge", json={"into_id": kept}).status_code == 409
    assert world.call(client, "POST", f"/candidates/{kept}/merge", json={"into_id": 999_999}).status_code == 409

    assert world.call(client, "POST", f"/candidates/{kept}/dismiss", json={"reason": " "}).status_code == 422
    assert (
        world.call(client, "POST", f"/candidates/{kept}/dismiss", json={"reason": "Später"}).json["status"]
        == "dismissed"
    )
    assert world.call(client, "POST", f"/candidates/{kept}/reopen", json={}).json["status"] == "open"
    assert world.call(client, "POST", f"/candidates/{kept}/reopen", json={}).status_code == 409

    response = world.call(client, "POST", f"/candidates/{kept}/pick", json={})
    assert response.status_code == 200 and response.json["status"] == "picked"
    cycle_id = response.json["cycle_id"]
    cycle = world.call(client, "GET", f"/cycles/{cycle_id}").json
    assert cycle["hours_per_week"] == "8.00" and cycle["direct_cost_per_week"] == "100.00"
    other = world.propose("Reporting")
    assert world.call(client, "POST", f"/candidates/{other}/pick", json={}).status_code == 409
    response = world.call(client, "POST", f"/candidates/{other}/pick", json={"confirm_second_open": True})
    assert response.status_code == 200


def test_another_organizations_candidate_is_a_missing_one(client, session, world, make_user, make_org):
    stranger = make_user()
    other_org = make_org("Andere GmbH", owner=stranger)
    foreign = in_org(session, other_org, lambda s: service.propose(s, {"title": "Geheim"}, stranger.id)).id
    own = world.propose("Eigen")
    for method, suffix, body in [
        ("GET", "", None),
        ("PATCH", "", {"title": "x"}),
        ("POST", "/pick", {}),
        ("POST", "/dismiss", {"reason": "x"}),
        ("POST", "/reopen", {}),
        ("POST", "/merge", {"into_id": own}),
    ]:
        kwargs = {"json": body} if body is not None else {}
        theirs = world.call(client, method, f"/candidates/{foreign}{suffix}", **kwargs)
        missing = world.call(client, method, f"/candidates/999999{suffix}", **kwargs)
        assert theirs.status_code == missing.status_code == 404
    into_theirs = world.call(client, "POST", f"/candidates/{own}/merge", json={"into_id": foreign})
    assert into_theirs.status_code == 409 and "Geheim" not in into_theirs.text
    with tenancy.tenant_context(session, other_org.id):
        assert session.scalars(select(Cycle)).all() == []
