"""Walks the URL map: every organization page of another tenant answers 404, never 403 or 200."""

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel
from engpass.db import db
from engpass.organizations.models import OrgKind, Role
from tests.support.api import bearer, make_token
from tests.support.hostile import huge_ids, non_ascii_digits
from tests.support.security import build_world, header_problems, route_url

ORG_PREFIX = "/o/<org_slug>"
# Every route outside /o/<org_slug>/ must be listed here on purpose.
PUBLIC_RULES = {
    "/",
    "/healthz",
    "/livez",
    "/login",
    "/logout",
    "/signup",
    "/language",
    "/welcome",
    "/password/forgot",
    "/password/reset/<token>",
    "/account/password",
    # Entering the password again before a sensitive action (login required; accounts/reauth.py).
    "/account/confirm",
    # Two-factor authentication: the login's second step (its session names the user), and one's own 2FA
    # pages (login required; accounts/twofactor_views.py).
    "/login/two-factor",
    "/account/two-factor/",
    "/account/two-factor/setup",
    "/account/two-factor/recovery-codes",
    "/account/two-factor/disable",
    # Account settings (login required) and the e-mail change's signed confirmation link (the link is the proof).
    "/account/settings",
    "/account/email",
    "/account/email/confirm/<token>",
    # One's own data: the JSON download and deleting the account (login required; docs/privacy.md).
    "/account/export",
    "/account/delete",
    # Invitation links: public, the token names the organization and is the credential (team/views.py).
    "/invitations/<token>",
    "/invitations/<token>/logout",
    # E-mail settings: one's own (login required), and behind the signed links every notification carries.
    "/account/notifications",
    "/notifications/settings/<token>",
    "/notifications/unsubscribe/<token>",
    # The .eml files of the embedded default: 404 unless no SMTP is configured and the request is from loopback.
    "/dev/mail/",
    "/dev/mail/<name>",
    "/dev/mail/<name>/html",
    "/todo",  # the user's to-do list across their organizations: needs a login, not an organization
    "/static/<path:filename>",
    # The API's OpenAPI document and its reference page: public, they describe the API and hold no data.
    "/api/v1/openapi.json",
    "/api/v1/docs",
    # Single sign-on (docs/sso.md): the way in before there is a session — the e-mail that finds the
    # provider, an organization's own sign-in link, and the provider's return.
    "/sso",
    "/sso/<org_slug>",
    "/sso/callback",
}
# The API's operations are authenticated by a bearer token, which names the organization — not by the
# URL. Their walk (another organization's objects answer 404 on every endpoint and method, for every
# role, exactly like missing ones) is tests/api/test_api_walk.py.
API_ENDPOINT_PREFIX = "api."
API_RULE_PREFIX = "/api/v1/"


def _org_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(ORG_PREFIX)]


def _fill(rule, slug):
    def value(match):
        converter, _, name = match.group(1).rpartition(":")
        if name == "org_slug":
            return slug
        return "1" if converter == "int" else "x"

    return re.sub(r"<([^>]+)>", value, rule.rule)


def _is_api_operation(rule):
    return rule.endpoint.startswith(API_ENDPOINT_PREFIX)


def test_every_route_is_org_scoped_or_explicitly_public(app):
    unlisted = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith(ORG_PREFIX) and rule.rule not in PUBLIC_RULES and not _is_api_operation(rule)
    }
    assert unlisted == set(), "new public routes must be added to PUBLIC_RULES deliberately"


def test_api_operations_live_under_the_api_prefix_and_declare_their_action(app):
    operations = [rule for rule in app.url_map.iter_rules() if _is_api_operation(rule)]
    assert len(operations) >= 10
    for rule in operations:
        assert rule.rule.startswith(API_RULE_PREFIX), rule.rule
        assert hasattr(app.view_functions[rule.endpoint], "permissions"), f"{rule.endpoint}: no @require_permission"


def test_organization_routes_exist(app):
    assert len(_org_rules(app)) >= 3


@pytest.mark.parametrize("role", [Role.owner, Role.viewer])
def test_another_organizations_pages_answer_404(app, client, make_user, make_org, login, role):
    victim = make_org("Opfer GmbH")
    outsider = make_user()
    make_org("Eigene Firma", owner=make_user(), members={outsider: role})
    login(outsider)
    checked = 0
    for rule in _org_rules(app):
        url = _fill(rule, victim.slug)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"name": "hijack"})
            assert response.status_code == 404, f"{method} {url} answered {response.status_code}"
            assert "Opfer" not in response.text
            checked += 1
    assert checked >= 3


def test_unknown_and_hostile_slugs_answer_404(app, client, make_user, make_org, login):
    user = make_user()
    make_org(owner=user)
    login(user)
    for slug in ("does-not-exist", "x" * 300, "ä-ö", "..", "1%20OR%201=1", "UPPER", "-leading"):
        assert client.get(f"/o/{slug}/").status_code == 404


def _only_for(app, rule):
    """The kind of organization a page exists in (consulting pages); None for every kind."""
    return getattr(app.view_functions[rule.endpoint], "only_for", None)


def _walk_404(app, client, slug, text):
    """Every method of every organization route under ``slug`` answers 404 and names nothing."""
    checked = 0
    for rule in _org_rules(app):
        url = _fill(rule, slug)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"name": "hijack", "code": "x", "level": "edit"})
            assert response.status_code == 404, f"{method} {url} answered {response.status_code}"
            assert text not in response.text
            checked += 1
    return checked


def _own_get_statuses(app, client, slug):
    """GET of every organization page without arguments besides the slug: its status code, by rule."""
    statuses = {}
    for rule in _org_rules(app):
        if "GET" not in rule.methods or rule.arguments - {"org_slug"}:
            continue
        statuses[rule.rule] = client.get(_fill(rule, slug)).status_code
    return statuses


@pytest.mark.parametrize("role", [Role.owner, Role.viewer])
def test_a_consultant_without_access_gets_404_on_every_client_route(
    app, client, session, make_user, make_org, login, role
):
    victim = make_org("Opfer GmbH")
    consultant = make_user()
    firm = make_org("Beratung Fremd", owner=make_user(), kind=OrgKind.consultancy, members={consultant: role})
    # Access to another client, and the firm's access to the victim revoked: neither opens the victim.
    other = make_org("Anderer Kunde")
    consulting.grant(session, other, firm, AccessLevel.edit, None)
    access = consulting.grant(session, victim, firm, AccessLevel.edit, None)
    consulting.revoke(session, victim, access.id, None)
    session.commit()
    login(consultant)
    assert _walk_404(app, client, victim.slug, "Opfer") >= 3


@pytest.mark.parametrize("level", [AccessLevel.read, AccessLevel.edit])
def test_a_consultant_works_like_a_viewer_or_member_and_loses_everything_on_revocation(
    app, client, session, make_user, make_org, login, level
):
    like = make_user()
    consultant = make_user()
    victim = make_org("Kunde GmbH", members={like: Role.viewer if level == AccessLevel.read else Role.member})
    firm = make_org("Beratung", owner=make_user(), kind=OrgKind.consultancy, members={consultant: Role.member})
    access = consulting.grant(session, victim, firm, level, None)
    session.commit()
    login(like)
    # Except the client's team: its pages never exist for a consultant (tests/web/test_consultant_privacy.py).
    expected = {
        rule: 404 if rule.startswith(f"{ORG_PREFIX}/team") else status
        for rule, status in _own_get_statuses(app, client, victim.slug).items()
    }
    client.post("/logout")
    login(consultant)
    assert _own_get_statuses(app, client, victim.slug) == expected
    assert "Sie arbeiten als Berater bei Kunde GmbH" in client.get(f"/o/{victim.slug}/").text
    consulting.revoke(session, victim, access.id, None)
    session.commit()
    assert _walk_404(app, client, victim.slug, "Kunde GmbH") >= 3


def test_anonymous_visitors_are_sent_to_login_without_learning_anything(app, client, make_org):
    org = make_org("Geheim AG")
    for rule in _org_rules(app):
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(_fill(rule, org.slug), method=method)
        assert response.status_code == 302
        assert response.location.startswith("/login")
        assert "Geheim" not in response.text


@pytest.mark.parametrize("kind", list(OrgKind))
def test_own_pages_never_fail(app, client, make_user, make_org, login, kind):
    for role in Role:
        user = make_user()
        org = make_org(owner=make_user(), members={user: role}, kind=kind)
        client.post("/logout")
        login(user)
        for rule in _org_rules(app):
            if "GET" not in rule.methods or rule.arguments - {"org_slug"}:
                continue
            response = client.get(_fill(rule, org.slug))
            if _only_for(app, rule) not in (None, kind):
                # A consultancy's portfolio in a company, a company's consultants page in a consultancy.
                assert response.status_code == 404, f"{kind} {role} GET {rule.rule}: {response.status_code}"
                continue
            assert response.status_code in (200, 302, 403), f"{kind} {role} GET {rule.rule}: {response.status_code}"
            if response.status_code == 302:
                # The address of a button (POST) typed in: back to the page it belongs to, in the same organization.
                assert response.location.startswith(f"/o/{org.slug}/"), response.location


def test_nul_bytes_anywhere_are_a_clean_400(client, make_user, make_org, login):
    user = make_user()
    org = make_org(owner=user)
    assert client.post("/login", data={"email": "a\x00@example.com", "password": "x"}).status_code == 400
    login(user)
    assert client.get(f"/o/{org.slug}/audit/?action=a%00b").status_code == 400
    assert client.get("/o/%00/").status_code in (400, 404)


# --- ids beyond the id columns' range --------------------------------------------------------------

INT_ARGUMENT = re.compile(r"<int(?:\([^)]*\))?:(\w+)>")


def _int_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules() if INT_ARGUMENT.search(rule.rule)), key=lambda r: r.rule)


def test_ids_beyond_the_columns_range_are_404_at_routing_with_the_headers(
    app, client, session, login, make_user, make_org
):
    owner, org, firm, values = build_world(session, make_user, make_org)
    token = make_token(session, org, owner)
    login(owner)
    rules = _int_rules(app)
    # Web pages and API operations alike: every <int:…> rule of the map.
    assert len(rules) >= 30 and any(r.rule.startswith(API_RULE_PREFIX) for r in rules)
    cases = [(rule, method) for rule in rules for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]

    @given(case=st.sampled_from(cases), huge=huge_ids, data=st.data())
    @settings(max_examples=len(cases) * 3, deadline=None, derandomize=True, database=None)
    def run(case, huge, data):
        rule, method = case
        # One of the rule's ids is huge, the others name real objects of the organization.
        target = data.draw(st.sampled_from(INT_ARGUMENT.findall(rule.rule)))
        url = route_url(app, rule, org, firm, values | {target: huge})
        headers = bearer(token) if rule.rule.startswith(API_RULE_PREFIX) else {}
        response = client.open(url, method=method, headers=headers, json={})
        assert response.status_code == 404, f"{method} {url[:120]}: {response.status_code}"
        assert header_problems(response) == [], f"{method} {url[:120]}"

    run()


@pytest.mark.parametrize("path", ["/test/failing-statement", "/api/v1/test/failing-statement"])
def test_after_a_failed_statement_the_error_page_renders_with_the_headers(
    app, client, postgres, make_user, make_org, login, path
):
    # PostgreSQL refuses every statement after a failed one until the transaction is rolled back; the error
    # page reads the user and their organizations, and must not fail in turn (a bare 500 without headers).
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def failing_statement():
        db.session.execute(text("SELECT 1 / 0"))

    app.add_url_rule(path, "failing_statement", failing_statement)
    user = make_user()
    make_org(owner=user)
    login(user)
    response = client.get(path)
    assert response.status_code == 500
    assert header_problems(response) == []
    if path.startswith(API_RULE_PREFIX):
        assert response.mimetype == "application/problem+json" and response.json["status"] == 500
    else:
        assert response.mimetype == "text/html" and user.name in response.text


def test_an_invitation_link_naming_an_impossible_organization_is_404(client):
    # The link's token names its organization; PostgreSQL refuses a tenant setting beyond the id column.
    @given(
        org_id=huge_ids | st.text(non_ascii_digits, min_size=1, max_size=12),
        method=st.sampled_from(["GET", "POST"]),
    )
    @settings(max_examples=30, deadline=None, derandomize=True, database=None)
    def run(org_id, method):
        for path in ("/invitations/{}", "/invitations/{}/logout"):
            response = client.open(path.format(f"{org_id}.{'a' * 43}"), method=method)
            # The logout's POST signs nobody out and goes back to the link; the link itself is a 404.
            assert response.status_code in (302, 404, 405), (method, path, response.status_code)
            assert header_problems(response) == []

    run()


class _Focusables(HTMLParser):
    """The page's elements a keyboard reaches, in document order, and whether ``<main id="main">`` exists."""

    FOCUSABLE = {"a", "button", "input", "select", "textarea", "summary"}

    def __init__(self) -> None:
        super().__init__()
        self.order: list[dict[str, str | None]] = []
        self.has_main = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "main" and found.get("id") == "main":
            self.has_main = True
        if found.get("tabindex") == "-1" or (tag == "input" and found.get("type") == "hidden"):
            return
        if (tag == "a" and "href" in found) or (tag in self.FOCUSABLE - {"a"}) or "tabindex" in found:
            self.order.append({"tag": tag, **found})


def _html_pages(app, client, slugs):
    """Every page a GET opens without arguments besides the organization: public ones and each org's."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or _is_api_operation(rule) or rule.rule.startswith("/static/"):
            continue
        if rule.rule.startswith(ORG_PREFIX):
            if rule.arguments - {"org_slug"}:
                continue
            urls = [_fill(rule, slug) for slug in slugs]
        elif rule.arguments:
            continue
        else:
            urls = [rule.rule]
        for url in urls:
            response = client.get(url)
            if response.status_code == 200 and response.mimetype == "text/html":
                yield url, response.text


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
def test_every_html_page_starts_with_a_skip_link_to_the_content(app, client, make_user, make_org, login, signed_in):
    user = make_user()
    slugs = [make_org(owner=user).slug, make_org(owner=user, kind=OrgKind.consultancy).slug]
    if signed_in:
        login(user)
    checked = 0
    for url, page in _html_pages(app, client, slugs):
        parser = _Focusables()
        parser.feed(page)
        first = parser.order[0] if parser.order else {}
        assert (first.get("tag"), first.get("href"), first.get("class")) == ("a", "#main", "skip-link"), url
        assert "Zum Inhalt springen" in page, url
        assert parser.has_main, f"{url} has no <main id=main>"
        checked += 1
    assert checked >= (20 if signed_in else 5)


def test_the_unavailable_page_has_the_skip_link_too():
    from engpass.settings import REPO_ROOT

    parser = _Focusables()
    parser.feed((REPO_ROOT / "templates" / "errors" / "unavailable.html").read_text())
    assert parser.order[0]["href"] == "#main" and parser.has_main
