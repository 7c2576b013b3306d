"""Security headers and script-free pages, on every GET route of the URL map; cookies and HSTS by scheme.

The walk fills each route's parameters with real ids of a small organization (an owner's view), so the pages
behind them render, the signed links' pages included (real tokens of another member).
docs/security.md lists what these tests guard.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.demo.data import DEMO_PASSWORD, load_demo
from engpass.organizations.models import Organization, OrgKind
from tests.support.accounts import PASSWORD
from tests.support.app import build_app
from tests.support.browser import live_app, log_in, watched_page
from tests.support.security import build_world, header_problems, route_url, rules_with

HOST = "engpass.test"  # the tests' base_url (tests/fixtures/app.py): absolute links to it are our own origin
# Elements that load what their src/href names: it must come from our own origin.
ASSET_TAGS = {"script", "link", "img", "iframe", "frame", "embed", "object", "source", "audio", "video", "track"}
# A rendered e-mail (the development mailbox) carries the inline styles every mail client needs.
EMAIL_RULES = {"/dev/mail/<name>/html"}


class _PageAudit(HTMLParser):
    """Everything in a page the content security policy would refuse or that loads from elsewhere."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and not values.get("src"):
            self.problems.append("inline <script>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name == "style":
                self.problems.append(f"<{tag} style=…>")
            if name in ("src", "href", "action", "formaction") and value:
                self._check_url(tag, name, value.strip())

    def _check_url(self, tag: str, name: str, value: str) -> None:
        if value.lower().startswith(("javascript:", "vbscript:")):
            self.problems.append(f"<{tag} {name}={value[:40]}>")
        if tag in ASSET_TAGS:
            parts = urlsplit(value)
            if value.startswith("//") or (parts.scheme in ("http", "https") and parts.hostname != HOST):
                self.problems.append(f"<{tag} {name}={value}> from another origin")


def page_problems(html: str) -> list[str]:
    audit = _PageAudit()
    audit.feed(html)
    audit.close()
    return audit.problems


@pytest.fixture
def owned(session, make_user, make_org):
    return build_world(session, make_user, make_org)


def test_every_get_route_sends_the_headers_and_no_inline_script(app, client, login, owned):
    owner, org, firm, values = owned
    login(owner)
    html_pages = 0
    failures = []
    for rule in rules_with(app, "GET"):
        url = route_url(app, rule, org, firm, values)
        response = client.get(url)
        assert response.status_code < 500, f"GET {url}: {response.status_code}"
        problems = header_problems(response)
        if "<token>" in rule.rule and response.headers.get("Cache-Control") != "private, no-store":
            problems.append("a signed link's page that may be cached")
        if response.mimetype == "text/html" and rule.rule not in EMAIL_RULES:
            html_pages += 1
            problems += page_problems(response.text)
        response.close()  # the static file's answer streams from an open file
        failures += [f"GET {url} ({response.status_code}): {problem}" for problem in problems]
    assert failures == []
    # The walk really rendered pages, not only login redirects.
    assert html_pages >= 30


def test_anonymous_pages_send_the_headers_too(app, client):
    failures = []
    for path in ("/", "/login", "/signup", "/password/forgot", "/password/reset/x", "/invitations/x", "/api/v1/docs"):
        response = client.get(path, follow_redirects=True)
        failures += [f"{path}: {p}" for p in header_problems(response) + page_problems(response.text)]
    assert failures == []


def test_json_answers_and_errors_carry_the_headers(client):
    for path in ("/api/v1/openapi.json", "/api/v1/cycles", "/healthz", "/o/nowhere/"):
        response = client.get(path)
        assert header_problems(response) == [], path
    assert client.get("/api/v1/cycles").headers["Cache-Control"] == "private, no-store"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url=f"https://{HOST}")
    assert secure.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"


def test_a_forged_forwarded_proto_counts_only_behind_a_trusted_proxy(settings, connection):
    forged = {"X-Forwarded-Proto": "https"}
    direct = build_app(settings, connection).test_client()
    assert "Strict-Transport-Security" not in direct.get("/login", headers=forged).headers
    settings.proxy_count = 1
    proxied = build_app(settings, connection).test_client()
    assert "Strict-Transport-Security" in proxied.get("/login", headers=forged).headers
    assert "Strict-Transport-Security" not in proxied.get("/login").headers


def _cookie_flags(response, name: str) -> set[str]:
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))
    return {part.strip().lower() for part in header.split(";")[1:]}


def test_the_session_and_remember_cookies_are_httponly_lax_and_secure_over_https(settings, connection, make_user):
    user = make_user()
    login = {"email": user.email, "password": PASSWORD, "remember": "y"}
    plain = build_app(settings, connection).test_client().post("/login", data=login)
    settings.base_url = f"https://{HOST}"
    secure = build_app(settings, connection).test_client().post("/login", data=login, base_url=f"https://{HOST}")
    for name in ("session", "remember_token"):
        assert {"httponly", "samesite=lax"} <= _cookie_flags(plain, name)
        assert "secure" not in _cookie_flags(plain, name)
        assert {"httponly", "samesite=lax", "secure"} <= _cookie_flags(secure, name)


def _demo(session: Session) -> str:
    load_demo(session)
    return session.scalars(select(Organization.slug).where(Organization.kind == OrgKind.consultancy)).one()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with live_app(tmp_path_factory.mktemp("security-browser"), _demo) as served:
        yield served


def test_the_main_pages_raise_no_csp_violation_in_a_browser(browser, live):
    url, firm_slug = live
    csp_reports: list[str] = []
    with watched_page(browser, url, 1280) as (page, watch):
        page.on("console", lambda m: csp_reports.append(m.text) if "Content Security" in m.text else None)
        log_in(page, url, "consultant@demo.example", DEMO_PASSWORD)
        assert page.url == f"{url}/o/{firm_slug}/portfolio"
        # A client's dashboard and its first cycle, reached through the portfolio's own links.
        client_href = page.locator(f"a[href^='/o/']:not([href^='/o/{firm_slug}'])").first.get_attribute("href")
        client_slug = client_href.split("/")[2]
        page.goto(f"{url}/o/{client_slug}/")
        page.goto(f"{url}/o/{client_slug}/cycles/")
        hrefs = page.locator("a").evaluate_all("links => links.map(link => link.getAttribute('href'))")
        cycle_href = next(h for h in hrefs if h and re.fullmatch(rf"/o/{client_slug}/cycles/\d+/", h))
        page.goto(f"{url}{cycle_href}")
        page.goto(f"{url}/api/v1/docs")
        assert csp_reports == []
        assert watch.problems == []
        assert watch.static_loaded, "no stylesheet or script was loaded"
