"""The client's consultants page promises: a consultancy "never sees your settings, members or audit log".

Walks every GET route of the URL map inside the client (pages, exports, the API with the consultant's
token) as a consultant with read and with edit access, and looks for the client's people in every answer:
no member's e-mail address anywhere, and no name of a member who is not responsible for a cycle. Files
are opened (ZIP, Excel, PDF), so a compressed export cannot hide one."""

import io
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engpass import tenancy
from engpass.accounts.models import User
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel
from engpass.cycles.models import Cycle
from engpass.organizations.models import OrgKind, Role
from engpass.organizations.service import add_member
from tests.support.api import bearer, make_token
from tests.support.security import one_of_everything, route_url, rules_with

# Unique markers: whatever carries one of these carries a client member's identity.
OWNER = ("Otto Obenauf", "otto-inhaber-7c1@kunde.example")
PEOPLE = {
    Role.admin: ("Adele Achtsam", "adele-admin-7c1@kunde.example"),
    Role.member: ("Mirko Mitwirk", "mirko-member-7c1@kunde.example"),
    Role.viewer: ("Vera Verborgen", "vera-viewer-7c1@kunde.example"),
}
# Responsible for the walk's cycle: a consultant sees that name on the cycle, nothing else of the owner.
VISIBLE_NAMES = {OWNER[0]}


def _texts(response) -> list[str]:
    """Everything the answer says, with files opened."""
    body = response.get_data()
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    if body.startswith(b"%PDF"):
        return [page.extract_text() for page in PdfReader(io.BytesIO(body)).pages]
    return [body.decode("utf-8", "replace")]


@pytest.fixture
def client_world(session, make_user, make_org):
    owner = make_user(OWNER[1], OWNER[0])
    people = {role: make_user(email, name) for role, (name, email) in PEOPLE.items()}
    org = make_org("Kunde GmbH", owner=owner, members={user: role for role, user in people.items()})
    firm = make_org("Beratung Klug", owner=make_user(), kind=OrgKind.consultancy)
    values = one_of_everything(session, org, owner, people[Role.member])
    return org, firm, values


@pytest.mark.parametrize("level", [AccessLevel.read, AccessLevel.edit])
def test_a_consultant_sees_no_member_of_the_client_anywhere(
    app, client, session, make_user, login, client_world, level
):
    org, firm, values = client_world
    consultant = make_user("berater@klug.example", "Bernd Berater")
    add_member(session, firm, consultant, Role.member)
    consulting.grant(session, org, firm, level, None)
    session.commit()
    token = make_token(session, org, consultant)
    login(consultant)
    secrets = [email for _name, email in [OWNER, *PEOPLE.values()]]
    secrets += [name for name, _email in PEOPLE.values() if name not in VISIBLE_NAMES]
    leaks, walked = [], 0
    for rule in rules_with(app, "GET"):
        if not rule.rule.startswith(("/o/<org_slug>", "/api/v1")):
            continue
        url = route_url(app, rule, org, firm, values)
        headers = bearer(token) if rule.rule.startswith("/api/v1") else {}
        response = client.get(url, headers=headers)
        assert response.status_code < 500, f"GET {url}: {response.status_code}"
        if rule.rule.startswith("/o/<org_slug>/team"):
            assert response.status_code == 404, f"GET {url}: {response.status_code}"
        walked += response.status_code == 200
        for text in _texts(response):
            leaks += [f"GET {url} ({response.status_code}): {secret}" for secret in secrets if secret in text]
    assert leaks == [], "\n".join(leaks)
    assert walked >= 20


@pytest.mark.parametrize("level", [AccessLevel.read, AccessLevel.edit])
def test_the_navigation_shows_a_consultant_no_team(client, session, make_user, login, client_world, level):
    org, firm, _values = client_world
    consultant = make_user()
    add_member(session, firm, consultant, Role.member)
    consulting.grant(session, org, firm, level, None)
    session.commit()
    login(consultant)
    page = client.get(f"/o/{org.slug}/")
    assert page.status_code == 200
    assert f"/o/{org.slug}/team/" not in page.text


def test_a_consultant_picks_only_people_already_responsible_or_nobody(client, session, make_user, login, client_world):
    org, firm, _values = client_world
    consultant = make_user()
    add_member(session, firm, consultant, Role.member)
    consulting.grant(session, org, firm, AccessLevel.edit, None)
    session.commit()
    login(consultant)
    page = client.get(f"/o/{org.slug}/cycles/new")
    assert OWNER[0] in page.text
    assert all(name not in page.text for name, _email in PEOPLE.values())
    created = client.post(
        f"/o/{org.slug}/cycles/new",
        data={
            "title": "Rechnungen dauern",
            "category": "quoting",
            "owner_id": "0",
            "sponsor_id": "0",
            "confirm_focus": "y",
        },
    )
    assert created.status_code == 302, created.text
    with tenancy.tenant_context(session, org.id):
        cycle = session.scalars(select(Cycle).where(Cycle.title == "Rechnungen dauern")).one()
        assert cycle.owner_id is None
    vera = session.scalars(select(User).where(User.email == PEOPLE[Role.viewer][1])).one()
    refused = client.post(
        f"/o/{org.slug}/cycles/new",
        data={
            "title": "Lager",
            "category": "quoting",
            "owner_id": str(vera.id),
            "sponsor_id": "0",
            "confirm_focus": "y",
        },
    )
    assert refused.status_code == 422


def test_through_the_api_a_consultant_cannot_probe_who_is_a_member(client, session, make_user, client_world):
    org, firm, _values = client_world
    consultant = make_user()
    add_member(session, firm, consultant, Role.member)
    consulting.grant(session, org, firm, AccessLevel.edit, None)
    session.commit()
    token = make_token(session, org, consultant)
    vera = session.scalars(select(User).where(User.email == PEOPLE[Role.viewer][1])).one()
    body = {"title": "Lager", "category": "quoting", "confirm_second_open": True}
    member = client.post("/api/v1/cycles", json={**body, "owner_id": vera.id}, headers=bearer(token))
    stranger = client.post("/api/v1/cycles", json={**body, "owner_id": 999_999}, headers=bearer(token))
    assert member.status_code == stranger.status_code == 409
    assert member.get_json()["errors"] == stranger.get_json()["errors"]
