"""Who may call the API: valid tokens only, with their user's current role; per-token rate limits."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel
from engpass.db import utcnow
from engpass.organizations.models import Membership, OrgKind, Role
from engpass.tokens import service as tokens
from engpass.tokens.models import ApiToken
from tests.support.accounts import PASSWORD, csrf_token_from
from tests.support.api import NEW_CYCLE, bearer, make_token
from tests.support.app import build_app


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["instance"] and body["detail"] and body["title"]
    return body


def _unauthorized(response):
    body = _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="engpass"')
    assert body["type"] == "/api/v1/docs#problem-unauthorized"
    return body


@pytest.fixture
def owner_token(session, make_user, make_org):
    user = make_user()
    org = make_org(owner=user)
    return org, user, make_token(session, org, user)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token engp_1_" + "a" * 43,
        "Bearer engp_1_" + "a" * 42,
        "Bearer ghp_" + "a" * 40,
        "Bearer engp_1_" + "a" * 43 + " trailing",
        "Bearer engp_99999999999_" + "a" * 43,
        "Bearer engp_9999999999_" + "a" * 43,
        "Bearer engp_2147483648_" + "a" * 43,
    ],
)
def test_missing_and_malformed_tokens_are_401(client, owner_token, header):
    headers = {} if header is None else {"Authorization": header}
    body = _unauthorized(client.get("/api/v1/cycles", headers=headers))
    assert "engp_1" not in body["detail"]


def test_an_unknown_token_is_401_even_with_a_real_organization_id(client, owner_token):
    org, _user, token = owner_token
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    body = _unauthorized(client.get("/api/v1/cycles", headers=bearer(forged)))
    assert 'error="invalid_token"' in client.get("/api/v1/cycles", headers=bearer(forged)).headers["WWW-Authenticate"]
    assert body["detail"] == "Dieses Token ist unbekannt."
    # The secret of one organization's token under another organization's id finds nothing either.
    moved = token.replace(f"engp_{org.id}_", f"engp_{org.id + 1}_")
    _unauthorized(client.get("/api/v1/cycles", headers=bearer(moved)))


def test_revoked_and_expired_tokens_are_401(client, session, owner_token):
    org, user, token = owner_token
    expired = make_token(session, org, user, expires_at=utcnow() - timedelta(seconds=1))
    later = make_token(session, org, user, expires_at=utcnow() + timedelta(days=1))
    with tenancy.tenant_context(session, org.id):
        row = session.scalars(select(ApiToken).where(ApiToken.token_hash == tokens.hash_token(token))).one()
        tokens.revoke_token(session, row, user.id)
        session.commit()
    headers = {"Accept-Language": "en"}
    assert _unauthorized(client.get("/api/v1/cycles", headers=bearer(token, **headers)))["detail"] == (
        "This token was revoked."
    )
    assert _unauthorized(client.get("/api/v1/cycles", headers=bearer(expired, **headers)))["detail"] == (
        "This token has expired."
    )
    assert client.get("/api/v1/cycles", headers=bearer(later)).status_code == 200


def test_a_session_cookie_never_authenticates_the_api(client, owner_token, login):
    org, user, _token = owner_token
    login(user)
    assert client.get(f"/o/{org.slug}/cycles/").status_code == 200
    _unauthorized(client.get("/api/v1/cycles"))
    _unauthorized(client.post("/api/v1/cycles", json=NEW_CYCLE))
    # And a token request does not log anyone into the web either.
    assert "Set-Cookie" not in client.get("/api/v1/cycles", headers=bearer(_token)).headers


def test_the_token_acts_with_the_users_current_role(client, session, make_user, make_org):
    owner, member = make_user(), make_user()
    org = make_org(owner=owner, members={member: Role.member})
    token = make_token(session, org, member)
    created = client.post("/api/v1/cycles", headers=bearer(token), json=NEW_CYCLE)
    assert created.status_code == 201
    # A member may not delete (admins and owners may).
    assert _problem(client.delete(f"/api/v1/cycles/{created.json['id']}", headers=bearer(token)), 403)
    membership = session.scalars(select(Membership).where(Membership.user_id == member.id)).one()
    membership.role = Role.viewer
    session.commit()
    body = _problem(
        client.post("/api/v1/cycles", headers=bearer(token, **{"Accept-Language": "en"}), json=NEW_CYCLE), 403
    )
    assert body["detail"] == "Your role (viewer) does not allow this: Name a bottleneck (new cycle, next cycle)."
    assert client.get("/api/v1/cycles", headers=bearer(token)).status_code == 200
    membership.role = Role.admin
    session.commit()
    assert client.delete(f"/api/v1/cycles/{created.json['id']}", headers=bearer(token)).status_code == 204
    session.delete(membership)
    session.commit()
    body = _unauthorized(client.get("/api/v1/cycles", headers=bearer(token, **{"Accept-Language": "en"})))
    assert body["detail"] == "The token's user no longer belongs to this organization."


def test_a_consultants_token_works_with_the_access_and_stops_with_it(client, session, make_user, make_org):
    client_owner, consultant = make_user(), make_user()
    company = make_org("Kunde GmbH", owner=client_owner)
    firm = make_org("Beratung", owner=make_user(), kind=OrgKind.consultancy, members={consultant: Role.member})
    access = consulting.grant(session, company, firm, AccessLevel.read, None)
    session.commit()
    token = make_token(session, company, consultant)
    assert client.get("/api/v1/cycles", headers=bearer(token)).status_code == 200
    # Read access is a viewer's role.
    _problem(client.post("/api/v1/cycles", headers=bearer(token), json=NEW_CYCLE), 403)
    access.level = AccessLevel.edit
    session.commit()
    created = client.post("/api/v1/cycles", headers=bearer(token), json=NEW_CYCLE)
    assert created.status_code == 201
    with tenancy.tenant_context(session, company.id):
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "cycle.created")).one()
    assert event.actor_id == consultant.id and event.via_organization_id == firm.id
    assert created.json["owner_id"] is None  # a consultant is no member: nobody is named responsible
    consulting.revoke(session, company, access.id, None)
    session.commit()
    _unauthorized(client.get("/api/v1/cycles", headers=bearer(token)))


@pytest.mark.parametrize("seat", ["member", "consultant"])
def test_the_token_and_its_seat_are_read_in_one_statement(client, session, make_user, make_org, count_queries, seat):
    owner, user = make_user(), make_user()
    company = make_org("Kunde GmbH", owner=owner, members={user: Role.member} if seat == "member" else {})
    if seat == "consultant":
        firm = make_org("Beratung", owner=make_user(), kind=OrgKind.consultancy, members={user: Role.member})
        consulting.grant(session, company, firm, AccessLevel.edit, None)
        session.commit()
    token = make_token(session, company, user)
    assert client.get("/api/v1/organization", headers=bearer(token)).status_code == 200  # last use written
    with count_queries() as counter:
        assert client.get("/api/v1/organization", headers=bearer(token)).json["slug"] == company.slug
    # The organization document needs nothing beyond the seat's row: authentication is the request's only read.
    assert counter.count == 1, counter.statements
    assert "api_tokens" in counter.statements[0] and "memberships" in counter.statements[0]


def test_messages_follow_accept_language(client, owner_token):
    _org, _user, token = owner_token
    german = client.get("/api/v1/cycles/1", headers=bearer(token))
    english = client.get("/api/v1/cycles/1", headers=bearer(token, **{"Accept-Language": "en-GB,en;q=0.8"}))
    assert _problem(german, 404)["detail"] == "Hier ist nichts – oder nicht in Ihrer Organisation."
    assert _problem(english, 404)["detail"] == "Nothing here, or not in your organization."


def test_bodies_must_be_json(client, owner_token):
    _org, _user, token = owner_token
    body = _problem(client.post("/api/v1/cycles", headers=bearer(token), data=NEW_CYCLE), 415)
    assert body["type"] == "/api/v1/docs#problem-unsupported-media-type"
    malformed = client.post("/api/v1/cycles", headers=bearer(token), data="{", content_type="application/json")
    assert _problem(malformed, 400)["errors"][0]["pointer"] == "#"
    huge = client.post(
        "/api/v1/cycles",
        headers=bearer(token),
        data='{"title": "' + "x" * 3_000_000 + '"}',
        content_type="application/json",
    )
    _problem(huge, 413)


def test_unknown_addresses_and_methods_answer_problems(client, owner_token):
    _org, _user, token = owner_token
    _problem(client.get("/api/v1/nothing", headers=bearer(token)), 404)
    not_allowed = client.put("/api/v1/cycles", headers=bearer(token), json=NEW_CYCLE)
    _problem(not_allowed, 405)
    assert "POST" in not_allowed.headers["Allow"]
    # The web keeps its HTML error pages.
    assert client.get("/nothing").mimetype == "text/html"


def test_each_token_has_its_own_rate_limit(settings, connection, session, make_user, make_org):
    settings.rate_limits_enabled = True
    settings.api_rate_limit = "3 per minute"
    app = build_app(settings, connection)
    client = app.test_client()
    user = make_user()
    org = make_org(owner=user)
    first, second = make_token(session, org, user), make_token(session, org, user)
    statuses = [client.get("/api/v1/cycles", headers=bearer(first)).status_code for _ in range(3)]
    statuses.append(client.post("/api/v1/cycles", headers=bearer(first), json=NEW_CYCLE).status_code)
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/dashboard", headers=bearer(first))
    body = _problem(limited, 429)
    assert body["type"] == "/api/v1/docs#problem-rate-limited"
    assert int(limited.headers["Retry-After"]) > 0
    # Another token of the same user has a budget of its own; nothing was created past the limit.
    ok = client.get("/api/v1/cycles", headers=bearer(second))
    assert ok.status_code == 200 and ok.json["items"] == []
    assert ok.headers["X-RateLimit-Limit"] == "3"
    # Refused tokens spend nobody's budget.
    for _ in range(5):
        assert client.get("/api/v1/cycles", headers=bearer("engp_1_" + "x" * 43)).status_code == 401


def test_bearer_requests_need_no_csrf_token_but_the_web_still_does(settings, connection, session, make_user, make_org):
    app = build_app(settings, connection)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    user = make_user()
    org = make_org(owner=user)
    token = make_token(session, org, user)
    assert client.post("/api/v1/cycles", headers=bearer(token), json=NEW_CYCLE).status_code == 201
    # The token page is a web form of a logged-in session: without the form's CSRF token it is refused.
    csrf = csrf_token_from(client.get("/login").text)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf})
    page = client.get(f"/o/{org.slug}/api-tokens/")
    assert page.status_code == 200
    form = {"name": "Web", "expires": "30"}
    assert client.post(f"/o/{org.slug}/api-tokens/", data=form).status_code == 400
    form["csrf_token"] = csrf_token_from(page.text)
    assert client.post(f"/o/{org.slug}/api-tokens/", data=form).status_code == 201
