"""Personal access tokens: the service, the token page per organization and ``engpass tokens create``."""

from datetime import timedelta

import pytest
from flask_babel import refresh
from sqlalchemy import select

from engpass import tenancy
from engpass.accounts.models import SecurityEvent
from engpass.audit.models import AuditEvent
from engpass.cli import cli
from engpass.db import utcnow
from engpass.organizations.models import Membership, Role
from engpass.tokens import service as tokens
from engpass.tokens.models import ApiToken
from tests.support.api import bearer, make_token


def _rows(session, org):
    with tenancy.tenant_context(session, org.id):
        rows = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
        session.expunge_all()
    return rows


def _events(session, org, action):
    with tenancy.tenant_context(session, org.id):
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def _revocations_told(session, user) -> int:
    """How often the user's security events say an admin revoked a token of theirs."""
    kinds = session.scalars(select(SecurityEvent.kind).where(SecurityEvent.user_id == user.id)).all()
    return kinds.count("api_token_revoked")


# --- the service ---------------------------------------------------------------------------------


def test_a_token_names_its_organization_and_only_its_hash_is_kept(session, make_user, make_org):
    user = make_user()
    org = make_org(owner=user)
    token = make_token(session, org, user, name="Power Automate")
    assert tokens.TOKEN_PATTERN.fullmatch(token)
    assert token.startswith(f"engp_{org.id}_") and tokens.org_id_of(token) == org.id
    (row,) = _rows(session, org)
    assert row.token_hash == tokens.hash_token(token) and token not in (row.token_hash, row.hint, row.name)
    assert row.hint == token[-4:] and row.user_id == user.id and row.name == "Power Automate"
    (event,) = _events(session, org, "api_token.created")
    assert event.actor_id == user.id and event.details["hint"] == token[-4:]
    assert token not in str(event.details)


def test_two_tokens_differ_and_malformed_ones_name_no_organization(session, make_user, make_org):
    user = make_user()
    org = make_org(owner=user)
    assert make_token(session, org, user) != make_token(session, org, user)
    for bad in (
        "",
        "engp_",
        "engp_0_" + "a" * 43,
        f"engp_{org.id}_short",
        "ghp_" + "a" * 40,
        f"engp_{org.id}_{'a' * 44}",
    ):
        assert tokens.org_id_of(bad) is None, bad


def test_revoking_is_recorded_once(session, make_user, make_org):
    user = make_user()
    org = make_org(owner=user)
    make_token(session, org, user)
    with tenancy.tenant_context(session, org.id):
        row = session.scalars(select(ApiToken)).one()
        assert tokens.revoke_token(session, row, user.id) is True
        assert tokens.revoke_token(session, row, user.id) is False
        session.commit()
    assert len(_events(session, org, "api_token.revoked")) == 1


def test_last_use_is_written_at_most_once_a_minute(session, make_user, make_org):
    user = make_user()
    org = make_org(owner=user)
    make_token(session, org, user)
    now = utcnow()
    with tenancy.tenant_context(session, org.id):
        row = session.scalars(select(ApiToken)).one()
        assert tokens.touch(session, row, now) is True
        session.refresh(row)
        assert tokens.touch(session, row, now + timedelta(seconds=59)) is False
        assert tokens.touch(session, row, now + timedelta(seconds=61)) is True


def test_the_api_records_the_last_use(client, session, make_user, make_org):
    user = make_user()
    org = make_org(owner=user)
    token = make_token(session, org, user)
    assert _rows(session, org)[0].last_used_at is None
    before = utcnow()
    assert client.get("/api/v1/cycles", headers=bearer(token)).status_code == 200
    used = _rows(session, org)[0].last_used_at
    assert used is not None and used.replace(tzinfo=before.tzinfo) >= before - timedelta(seconds=1)


# --- the token page ------------------------------------------------------------------------------


def test_creating_a_token_shows_it_once(client, session, make_user, make_org, login):
    user = make_user()
    org = make_org(owner=user)
    login(user)
    response = client.post(f"/o/{org.slug}/api-tokens/", data={"name": "Zapier", "expires": "30"})
    assert response.status_code == 201
    (row,) = _rows(session, org)
    shown = [word for word in response.text.split('"') if word.startswith(f"engp_{org.id}_")]
    assert len(shown) == 1 and tokens.hash_token(shown[0]) == row.token_hash
    assert row.expires_at is not None and row.name == "Zapier"
    assert "Set-Cookie" not in response.headers or shown[0] not in response.headers["Set-Cookie"]
    assert response.headers["Cache-Control"] == "private, no-store"
    again = client.get(f"/o/{org.slug}/api-tokens/").text
    assert shown[0] not in again
    assert f"engp_…{row.hint}" in again and "Zapier" in again
    # The token works.
    assert client.get("/api/v1/dashboard", headers=bearer(shown[0])).status_code == 200


def test_a_token_without_expiry_and_a_nameless_one(client, session, make_user, make_org, login):
    user = make_user()
    org = make_org(owner=user)
    login(user)
    assert client.post(f"/o/{org.slug}/api-tokens/", data={"name": "Skript", "expires": "never"}).status_code == 201
    assert _rows(session, org)[0].expires_at is None
    refused = client.post(f"/o/{org.slug}/api-tokens/", data={"name": "  ", "expires": "90"})
    assert refused.status_code == 422 and "engp_" + str(org.id) not in refused.text
    assert client.post(f"/o/{org.slug}/api-tokens/", data={"name": "x", "expires": "7"}).status_code == 422
    assert len(_rows(session, org)) == 1


def test_the_page_is_german_and_a_member_sees_only_their_own_tokens(client, session, make_user, make_org, login):
    user, colleague = make_user(), make_user()
    org = make_org(owner=make_user(), members={user: Role.member, colleague: Role.member})
    make_token(session, org, colleague, name="Fremdes Token")
    login(user)
    refresh()
    page = client.get(f"/o/{org.slug}/api-tokens/").text
    assert "API-Tokens" in page and "Noch keine Tokens." in page and "Fremdes Token" not in page
    assert "Tokens der anderen" not in page


def test_a_member_revokes_their_own_token_and_never_anothers(client, session, make_user, make_org, login):
    user, colleague = make_user(), make_user()
    org = make_org(owner=make_user(), members={user: Role.member, colleague: Role.member})
    mine = make_token(session, org, user, name="Meins")
    theirs = make_token(session, org, colleague, name="Deins")
    mine_id, theirs_id = (row.id for row in _rows(session, org))
    login(user)
    # Another member's token is not theirs to see: 404, like a missing one.
    assert client.post(f"/o/{org.slug}/api-tokens/{theirs_id}/revoke").status_code == 404
    assert client.post(f"/o/{org.slug}/api-tokens/999999/revoke").status_code == 404
    assert client.get(f"/o/{org.slug}/api-tokens/{mine_id}/revoke").status_code == 302
    assert client.get("/api/v1/cycles", headers=bearer(mine)).status_code == 200
    response = client.post(f"/o/{org.slug}/api-tokens/{mine_id}/revoke")
    assert response.status_code == 302 and response.location.endswith(f"/o/{org.slug}/api-tokens/")
    assert client.get("/api/v1/cycles", headers=bearer(mine)).status_code == 401
    assert client.get("/api/v1/cycles", headers=bearer(theirs)).status_code == 200
    assert "Widerrufen am" in client.get(f"/o/{org.slug}/api-tokens/").text
    (event,) = _events(session, org, "api_token.revoked")
    assert event.object_id == mine_id and event.actor_id == user.id
    assert _revocations_told(session, user) == 0, "revoking one's own token is no security event"


# --- an admin's view of everyone's tokens ---------------------------------------------------------


@pytest.fixture
def staffed(session, make_user, make_org):
    """An organization with an owner, an admin and a member, each with a working token; the member also has
    an expired and a revoked one."""
    owner = make_user(name="Olga Inhaberin")
    admin = make_user(name="Anton Admin")
    member = make_user(name="Mia Mitglied")
    org = make_org("Token AG", owner=owner, members={admin: Role.admin, member: Role.member})
    working = {
        "owner": make_token(session, org, owner, name="Inhaber-Skript"),
        "admin": make_token(session, org, admin, name="Admin-Skript"),
        "member": make_token(session, org, member, name="Zapier"),
    }
    make_token(session, org, member, name="Abgelaufen", expires_at=utcnow() - timedelta(days=1))
    make_token(session, org, member, name="Schon widerrufen")
    with tenancy.tenant_context(session, org.id):
        gone = session.scalars(select(ApiToken).where(ApiToken.name == "Schon widerrufen")).one()
        tokens.revoke_token(session, gone, member.id)
        session.commit()
    ids = {row.name: row.id for row in _rows(session, org)}
    return org, {"owner": owner, "admin": admin, "member": member}, working, ids


def _others_section(page: str) -> str:
    start = page.index('id="others"')
    return page[start : page.index("</section>", start)]


def test_an_admin_sees_the_others_working_tokens_but_never_a_secret(client, session, staffed, login):
    org, people, working, _ids = staffed
    login(people["admin"])
    page = client.get(f"/o/{org.slug}/api-tokens/").text
    others = _others_section(page)
    assert "Tokens der anderen in Token AG" in others
    assert "Mia Mitglied" in others and "Zapier" in others and "Olga Inhaberin" in others
    assert "Admin-Skript" not in others, "one's own tokens are listed above, not among the others"
    assert "Abgelaufen" not in others and "Schon widerrufen" not in others, "only tokens that still work"
    assert not any(secret in page for secret in working.values())
    assert "Das Token eines Inhabers widerrufen nur Inhaber." in others
    assert others.count("jetzt widerrufen") == 1, "the member's token only; the owner's is not the admin's to revoke"


def test_an_admin_revokes_a_members_token_and_the_member_is_told(client, session, staffed, login):
    org, people, working, ids = staffed
    login(people["admin"])
    assert client.get("/api/v1/cycles", headers=bearer(working["member"])).status_code == 200
    response = client.post(f"/o/{org.slug}/api-tokens/{ids['Zapier']}/revoke")
    assert response.status_code == 302
    assert client.get("/api/v1/cycles", headers=bearer(working["member"])).status_code == 401
    assert "Zapier" not in _others_section(client.get(f"/o/{org.slug}/api-tokens/").text)
    (event,) = [e for e in _events(session, org, "api_token.revoked") if e.object_id == ids["Zapier"]]
    assert event.actor_id == people["admin"].id and event.details["user_id"] == people["member"].id
    assert _revocations_told(session, people["member"]) == 1
    client.post("/logout")
    login(people["member"])
    assert "Ein API-Token von Ihnen wurde von einem Inhaber oder Administrator" in client.get("/account/settings").text


def test_an_admin_cannot_revoke_an_owners_token_but_an_owner_can_revoke_an_admins(client, session, staffed, login):
    org, people, working, ids = staffed
    login(people["admin"])
    assert client.post(f"/o/{org.slug}/api-tokens/{ids['Inhaber-Skript']}/revoke").status_code == 404
    assert client.get("/api/v1/cycles", headers=bearer(working["owner"])).status_code == 200
    client.post("/logout")
    login(people["owner"])
    assert client.post(f"/o/{org.slug}/api-tokens/{ids['Admin-Skript']}/revoke").status_code == 302
    assert client.get("/api/v1/cycles", headers=bearer(working["admin"])).status_code == 401
    assert _revocations_told(session, people["admin"]) == 1


def test_an_admin_of_one_organization_cannot_reach_anothers_tokens(
    client, session, staffed, make_user, make_org, login
):
    org, people, _working, _ids = staffed
    stranger = make_user()
    other = make_org("Fremd AG", owner=stranger)
    foreign = make_token(session, other, stranger, name="Fremd")
    (row,) = _rows(session, other)
    login(people["admin"])
    # Through the own organization's address: the tenancy layer does not find the other's row.
    assert client.post(f"/o/{org.slug}/api-tokens/{row.id}/revoke").status_code == 404
    assert client.post(f"/o/{other.slug}/api-tokens/{row.id}/revoke").status_code == 404
    assert "Fremd" not in _others_section(client.get(f"/o/{org.slug}/api-tokens/").text)
    assert client.get("/api/v1/cycles", headers=bearer(foreign)).status_code == 200


def test_the_admin_page_costs_the_same_queries_however_many_tokens(
    client, session, staffed, make_user, login, count_queries
):
    org, people, _working, _ids = staffed
    login(people["admin"])
    page = f"/o/{org.slug}/api-tokens/"
    client.get(page)
    with count_queries() as before:
        assert client.get(page).status_code == 200
    for number in range(5):
        colleague = make_user(name=f"Kollege {number}")
        with tenancy.tenant_context(session, org.id):
            session.add(Membership(user_id=colleague.id, organization_id=org.id, role=Role.member))
            session.commit()
        make_token(session, org, colleague, name=f"Skript {number}")
    with count_queries() as after:
        assert client.get(page).status_code == 200
    assert after.count == before.count, after.statements


def test_another_organizations_token_page_is_404(client, session, make_user, make_org, login):
    user = make_user()
    make_org(owner=user)
    other_owner = make_user()
    other = make_org("Fremd GmbH", owner=other_owner)
    make_token(session, other, other_owner)
    (row,) = _rows(session, other)
    login(user)
    assert client.get(f"/o/{other.slug}/api-tokens/").status_code == 404
    assert client.post(f"/o/{other.slug}/api-tokens/{row.id}/revoke").status_code == 404


def test_the_menu_and_the_account_settings_lead_to_the_tokens(client, make_user, make_org, login):
    user = make_user()
    org = make_org(owner=user)
    login(user)
    assert f'href="/o/{org.slug}/api-tokens/"' in client.get(f"/o/{org.slug}/cycles/").text
    assert f'href="/o/{org.slug}/api-tokens/"' in client.get("/account/settings").text


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def run(app):
    def _run(*args):
        return app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)

    return _run


def test_the_cli_prints_only_the_token(run, session, make_user, make_org, client):
    user = make_user()
    org = make_org(owner=user)
    result = run("tokens", "create", "--org", org.slug, "--email", user.email.upper(), "--name", "Server")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert result.output == token + "\n" and tokens.TOKEN_PATTERN.fullmatch(token)
    (row,) = _rows(session, org)
    assert row.name == "Server" and row.expires_at is None and row.token_hash == tokens.hash_token(token)
    assert client.get("/api/v1/cycles", headers=bearer(token)).status_code == 200


def test_the_cli_refuses_strangers_and_unknown_organizations(run, session, make_user, make_org):
    user, stranger = make_user(), make_user()
    org = make_org(owner=user)
    for args in (("--org", org.slug, "--email", stranger.email), ("--org", "nope", "--email", user.email)):
        result = run("tokens", "create", *args)
        assert result.exit_code != 0 and "engp_" not in result.output
    result = run("tokens", "create", "--org", org.slug, "--email", user.email, "--expires-in-days", "30")
    assert result.exit_code == 0
    assert _rows(session, org)[0].expires_at is not None
