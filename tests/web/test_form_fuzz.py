"""Every form, fuzzed: random and hostile input to every route that accepts POST never answers 5xx.

The fields of a route's form are read from the pages that render it (every GET page of a small organization,
as its owner, and the public pages); hypothesis fills them, and a few fields of its own, with hostile values
and posts them with a valid CSRF token, as the owner and anonymously. A refused submission (4xx) leaves no
row behind. ENGPASS_FUZZ_EXAMPLES sets the examples per route (default 30: the file runs in about a minute on SQLite).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from engpass import tenancy
from engpass.db import Base
from tests.support.accounts import csrf_token_from
from tests.support.hostile import json_values, nested_json
from tests.support.security import build_world, route_url, rules_with

EXAMPLES = int(os.environ.get("ENGPASS_FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Ending the session would turn the rest of the run into login redirects; these take no input anyway.
NOT_FUZZED = {"accounts.logout", "team_public.switch_account"}
# Routes that may end what later routes need (a cycle, the invitation, the membership): fuzzed last.
DESTRUCTIVE = ("delete", "remove", "leave", "transfer", "cancel", "revoke", "decline", "accept")
# Rows a refused submission may write on purpose: the audit log and a user's security events (refusals worth
# recording: a wrong password or code at re-authentication) and the outbox.
MAY_GROW = {"audit_events", "security_events", "outbox_messages"}

HOSTILE = [
    "",
    " ",
    "A" * 20_000,
    "a\x00b",
    "\x00",
    "\u202eevil\u202c",
    "\u200b\u200d\ufeff",
    "\x07\x1b[31m\x7f",
    "Ünïcødé – 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🚀",
    "'; DROP TABLE users; --",
    "' OR '1'='1",
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "{{7*7}}{% print 1 %}",
    "${jndi:ldap://x}",
    "../../../../etc/passwd",
    "%00%2e%2e",
    "9" * 400,
    "-1",
    "-99999999999999999999999999",
    "1e309",
    "-0",
    "NaN",
    "Infinity",
    "0x1F",
    "1,5",
    "0000-00-00",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "31.12.2026",
    "true",
    "null",
    "[]",
    "{}",
    "owner",
    "admin",
    "999999999",
    "@",
    "a@b",
    "x@example.com",
]
scalar = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(codec="utf-8"), max_size=60),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
)
# A list where a scalar is expected: the field sent several times.
value = st.one_of(scalar, st.lists(scalar, min_size=2, max_size=3))
extra_names = st.sampled_from(["id", "organization_id", "user_id", "role", "is_admin", "csrf_token[]", "x" * 300])


def form_body(fields: list[str]) -> st.SearchStrategy[dict]:
    """Some of the form's own fields (each may be missing) and a few foreign ones, hostile values throughout."""
    own = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, value))
    foreign = st.dictionaries(extra_names, value, max_size=2)
    return st.tuples(own, foreign).map(lambda parts: {**parts[1], **parts[0]})


class _FormFields(HTMLParser):
    """The names of the inputs of every POST form of a page, by the form's action."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: dict[str, set[str]] = defaultdict(set)
        self._action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            post = (values.get("method") or "get").lower() == "post"
            self._action = ((values.get("action") or self.page_url).split("?")[0]) if post else None
            if self._action:
                self.forms.setdefault(self._action, set())  # a form without fields still names its route
        elif tag in ("input", "select", "textarea", "button") and self._action:
            name = values.get("name")
            if name and name != "csrf_token":
                self.forms[self._action].add(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._action = None


def form_fields(client, urls: list[str]) -> dict[str, set[str]]:
    fields: dict[str, set[str]] = defaultdict(set)
    for url in urls:
        response = client.get(url)
        if response.mimetype == "text/html":
            parser = _FormFields(url)
            parser.feed(response.text)
            for action, names in parser.forms.items():
                fields[action] |= names
        response.close()
    return fields


def row_counts(session, org_ids: list[int]) -> dict[tuple[int, str], int]:
    """Every table's rows as each organization sees them: under row-level security a count depends on the
    tenant setting, which the last request left at its own organization."""
    session.expire_all()
    counts = {}
    for org_id in org_ids:
        with tenancy.tenant_context(session, org_id):
            for table in Base.metadata.sorted_tables:
                if table.name not in MAY_GROW:
                    counts[org_id, table.name] = session.scalar(select(func.count()).select_from(table))
    return counts


@pytest.fixture
def world(session, make_user, make_org):
    return build_world(session, make_user, make_org)


def json_body(fields: list[str]) -> st.SearchStrategy[str]:
    """A JSON body where a form is expected: the form's fields with values of any JSON shape, any other
    document, or one nested from a few levels to far beyond the parser's recursion limit."""
    own = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, json_values)) if fields else st.just({})
    return st.one_of(own.map(json.dumps), json_values.map(json.dumps), nested_json)


def request_body(fields: list[str]) -> st.SearchStrategy[dict]:
    """Mostly form posts; one in four a JSON body (the CSRF token then in its header, as a script sends it)."""
    form = form_body(fields).map(lambda body: {"data": body})
    as_json = json_body(fields).map(lambda body: {"data": body, "content_type": "application/json"})
    return st.integers(min_value=0, max_value=3).flatmap(lambda n: as_json if n == 0 else form)


def _fuzz(client, session, orgs: list[int], url: str, fields: set[str], token: str, failures: list[str]) -> None:
    @FUZZ
    @given(body=request_body(sorted(fields)))
    def run(body: dict) -> None:
        before = row_counts(session, orgs)
        if "content_type" in body:
            response = client.post(url, **body, headers={"X-CSRFToken": token})
        else:
            response = client.post(url, data={**body["data"], "csrf_token": token})
        response.close()
        shown = repr(body["data"][:60]) if isinstance(body["data"], str) else repr(sorted(body["data"]))
        if response.status_code >= 500:
            failures.append(f"POST {url} {shown}: {response.status_code}")
        elif 400 <= response.status_code < 500 and row_counts(session, orgs) != before:
            failures.append(f"POST {url} refused ({response.status_code}) but wrote rows: {shown}")

    run()


def _fuzz_all(
    app, client, session, orgs: list[int], urls: dict[str, str], pages: list[str], alive: set[int]
) -> list[str]:
    """``urls``: every POST route's address by endpoint; ``pages``: the GET pages whose forms name the fields,
    the first of which answers with a status in ``alive`` throughout (the owner stays logged in)."""
    app.config["WTF_CSRF_ENABLED"] = True
    fields = form_fields(client, pages)
    token = csrf_token_from(client.get(pages[0]).text)
    failures: list[str] = []
    for endpoint, url in sorted(urls.items(), key=lambda item: (item[0].endswith(DESTRUCTIVE), item[0])):
        _fuzz(client, session, orgs, url, fields.get(url, set()), token, failures)
        # The app still answers, and the owner's session survived the route.
        assert client.get(pages[0]).status_code in alive, f"{endpoint}: the app stopped answering"
    return failures


def test_every_form_of_an_owner_survives_hostile_input(app, client, session, login, world):
    owner, org, firm, values = world
    login(owner)
    urls = {
        rule.endpoint: route_url(app, rule, org, firm, values)
        for rule in rules_with(app, "POST")
        if not rule.endpoint.startswith("api.") and rule.endpoint not in NOT_FUZZED
    }
    pages = [f"/o/{org.slug}/"] + [route_url(app, rule, org, firm, values) for rule in rules_with(app, "GET")]
    # Every route of the web that accepts POST; the API's are Schemathesis's (tests/api/test_api_schema.py).
    assert len(urls) >= 40
    assert _fuzz_all(app, client, session, [org.id, firm.id], urls, pages, {200}) == []


def test_every_public_form_survives_hostile_input_anonymously(app, client, session, world):
    owner, org, firm, values = world
    public = {
        rule.endpoint: route_url(app, rule, org, firm, values)
        for rule in rules_with(app, "POST")
        if not rule.rule.startswith(("/o/", "/api/", "/account")) and rule.endpoint not in NOT_FUZZED
    }
    pages = ["/login", "/signup", "/password/forgot", *public.values()]
    assert {"accounts.login", "accounts.signup", "team_public.accept", "notifications.unsubscribe"} <= set(public)
    # A lucky sign-up logs in, and the login page then redirects.
    assert _fuzz_all(app, client, session, [org.id, firm.id], public, pages, {200, 302}) == []
