"""Re-authentication: sensitive actions need a password entered in the last ten minutes."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from engpass import tenancy
from engpass.accounts.models import User
from engpass.accounts.reauth import AUTH_AT_KEY, RECENT_AUTH_MAX_AGE
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel, ClientAccess
from engpass.organizations.models import Organization, OrgKind
from engpass.tokens.models import ApiToken
from tests.support.accounts import PASSWORD
from tests.support.app import build_app


def _token_count(session, org):
    with tenancy.tenant_context(session, org.id):
        return session.scalar(select(func.count()).select_from(ApiToken))


def _go_stale(client):
    with client.session_transaction() as sess:
        sess[AUTH_AT_KEY] = int(time.time()) - RECENT_AUTH_MAX_AGE - 1


def _confirm(client, target, password=PASSWORD):
    return client.post("/account/confirm?" + f"next={target}", data={"password": password})


@pytest.fixture
def owner(make_user, make_org):
    user = make_user("sabine@mueller.example", "Sabine Müller")
    org = make_org("Müller Metallbau GmbH", owner=user)
    return user, org


def _cases(session, make_user, make_org, owner):
    """(path, form, did it happen?) for every protected action."""
    user, org = owner
    firm = make_org("Weber & Partner", owner=make_user("petra@weber.example"), kind=OrgKind.consultancy)
    code = consulting.invitation_code(session, firm).code
    loner = make_user("solo@example.com")
    org_id, loner_id = org.id, loner.id
    return {
        "password": (
            "/account/password",
            {"current_password": PASSWORD, "password": "n" * 12, "confirm": "n" * 12},
            lambda: not session.get(User, user.id).check_password(PASSWORD),
        ),
        "email": ("/account/email", {"email": "neu@example.com", "current_password": PASSWORD}, None),
        "tokens": (
            f"/o/{org.slug}/api-tokens/",
            {"name": "Skript", "expires": "30"},
            lambda: _token_count(session, org) == 1,
        ),
        "consultant": (
            f"/o/{org.slug}/settings/consultants",
            {"code": code, "level": "read"},
            lambda: consulting.active_access(session, firm.id, org.id) is not None,
        ),
        "delete_org": (
            f"/o/{org.slug}/settings/delete",
            {"confirmation": org.name, "current_password": PASSWORD},
            lambda: session.get(Organization, org_id) is None,
        ),
        "delete_account": (
            "/account/delete",
            {"confirmation": loner.email, "current_password": PASSWORD},
            lambda: session.get(User, loner_id) is None,
        ),
    }, loner


@pytest.mark.parametrize("action", ["password", "email", "tokens", "consultant", "delete_org", "delete_account"])
def test_a_stale_session_is_sent_to_confirm_changes_nothing_and_continues_after(
    client, session, login, make_user, make_org, owner, action
):
    cases, loner = _cases(session, make_user, make_org, owner)
    path, form, happened = cases[action]
    login(loner if action == "delete_account" else owner[0])
    _go_stale(client)

    refused = client.post(path, data=form)
    assert refused.status_code == 303
    parts = urlsplit(refused.location)
    assert parts.path == "/account/confirm"
    assert parse_qs(parts.query)["next"] == [path]
    session.expire_all()
    if happened is not None:
        assert not happened()
    assert session.scalar(select(func.count()).select_from(ClientAccess)) == 0

    assert client.get(refused.location).status_code == 200
    confirmed = _confirm(client, path)
    assert confirmed.status_code == 302 and confirmed.location == path
    done = client.post(path, data=form)
    assert done.status_code in (200, 201, 302)
    session.expire_all()
    if happened is not None:
        assert happened()


def test_approving_a_consultants_request_needs_a_recent_password(client, session, login, make_user, make_org, owner):
    user, org = owner
    petra = make_user("petra@weber.example")
    firm = make_org("Weber & Partner", owner=petra, kind=OrgKind.consultancy)
    request = consulting.request_access(session, firm, org.slug, AccessLevel.read, "", petra.id)
    session.flush()
    login(user)
    _go_stale(client)
    path = f"/o/{org.slug}/settings/consultants/requests/{request.id}/approve"
    assert client.post(path, data={"level": "read"}).status_code == 303
    assert consulting.active_access(session, firm.id, org.id) is None
    _confirm(client, path)
    assert client.post(path, data={"level": "read"}).status_code == 302
    assert consulting.active_access(session, firm.id, org.id) is not None


def test_pages_that_only_show_are_not_gated(client, login, owner):
    user, org = owner
    login(user)
    _go_stale(client)
    assert client.get(f"/o/{org.slug}/api-tokens/").status_code == 200
    assert client.get(f"/o/{org.slug}/settings/consultants").status_code == 200
    assert client.get("/account/settings").status_code == 200
    gated = client.get("/account/password")
    assert gated.status_code == 303 and "next=%2Faccount%2Fpassword" in gated.location


def test_a_wrong_password_is_refused_with_a_message_and_the_session_stays_stale(client, login, owner):
    user, _org = owner
    login(user)
    _go_stale(client)
    wrong = _confirm(client, "/account/password", password="falsch-falsch")
    assert wrong.status_code == 401
    assert "Das Passwort ist nicht korrekt." in wrong.text
    assert client.get("/account/password").status_code == 303
    assert _confirm(client, "/account/password", password="").status_code == 422


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_confirm_returns_only_to_this_site(client, login, owner, target):
    login(owner[0])
    response = client.post("/account/confirm", query_string={"next": target}, data={"password": PASSWORD})
    assert response.status_code == 302 and response.location == "/account/settings"


def test_confirm_needs_a_login(client):
    assert client.get("/account/confirm").status_code == 302


@pytest.fixture
def limited_client(settings, connection):
    settings.rate_limits_enabled = True
    return build_app(settings, connection).test_client()


def test_confirm_is_rate_limited_per_account(limited_client, owner):
    user, _org = owner
    client = limited_client
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    statuses = [
        client.post(
            "/account/confirm", data={"password": "wrong"}, environ_base={"REMOTE_ADDR": f"10.0.1.{i}"}
        ).status_code
        for i in range(7)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
