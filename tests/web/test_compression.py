"""HTML and JSON answers compressed when the client accepts it, errors included; files, streams, small answers
and pages that a foreign site could make reflect its text (BREACH) as they are; the page cache's hits both ways.

The cases are classes of address: each says whether a browser's answer goes out compressed and whether that
depended on ``Sec-Fetch-Site``."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import uuid4

import brotli
import pytest

from engpass import tenancy
from engpass.compression import MIN_SIZE, gzipped
from engpass.demo.cycles import SHOP, build_chain
from engpass.organizations.models import Role
from engpass.page_cache import page_cache
from engpass.trends import service as trends
from tests.support.api import bearer, make_token

GZIP = {"Accept-Encoding": "gzip"}
BROWSER = {"Accept-Encoding": "gzip, deflate, br"}
BROTLI_ONLY = {"Accept-Encoding": "br"}
TOKEN = re.compile(rb'name="csrf_token" value="([A-Za-z0-9._-]{40,})"')


def _without_tokens(html: str) -> str:
    # The CSRF token is signed with the second it was made in: two renders differ there and nowhere else.
    return re.sub(r'value="[A-Za-z0-9._-]{40,}"', 'value=""', html)


def _vary(response) -> set[str]:
    return {value.strip() for value in response.headers.get("Vary", "").split(",") if value.strip()}


@dataclass(frozen=True)
class Page:
    """An HTML answer for the signed-in viewer: its address (``{slug}`` their organization's), the
    ``Sec-Fetch-Site`` the browser sends (None: an older browser sends none), and what is expected."""

    name: str
    address: str
    fetch_site: str | None
    compressed: bool
    # Whether the address could reflect someone else's text, so the encoding depends on Sec-Fetch-Site.
    reflects: bool
    status: int = 200


PAGES = [
    Page("no query", "/o/{slug}/team/", None, compressed=True, reflects=False),
    Page("no query, cross-site", "/o/{slug}/team/", "cross-site", compressed=True, reflects=False),
    Page("page number", "/o/{slug}/todo?page=1", None, compressed=True, reflects=False),
    Page("page number, cross-site", "/o/{slug}/todo?page=1", "cross-site", compressed=True, reflects=False),
    Page("text query, same-origin", "/o/{slug}/team/?q=abc", "same-origin", compressed=True, reflects=True),
    Page("text query, typed by the user", "/o/{slug}/team/?q=abc", "none", compressed=True, reflects=True),
    Page("text query, cross-site", "/o/{slug}/team/?q=abc", "cross-site", compressed=False, reflects=True),
    Page("text query, same-site", "/o/{slug}/team/?q=abc", "same-site", compressed=False, reflects=True),
    Page("text query, older browser", "/o/{slug}/team/?q=abc", None, compressed=False, reflects=True),
    # A parameter's name is reflected too: digits under a name of the requester's choosing are chosen text.
    Page("digits under another name", "/o/{slug}/team/?IjE2=123", None, compressed=False, reflects=True),
    Page("a page number percent-encoded", "/o/{slug}/todo?page=%31", None, compressed=False, reflects=True),
    Page("a page number twice", "/o/{slug}/todo?page=1&page=2", None, compressed=True, reflects=False),
    Page("404 of an id", "/o/{slug}/cycles/999999/", None, compressed=True, reflects=False, status=404),
    Page("403 of a role", "/o/{slug}/cycles/new", None, compressed=True, reflects=False, status=403),
    # The slug of an organization that is not the user's is anyone's text until the gateway entered it.
    Page("404 of a slug, older browser", "/o/gibt-es-nicht/", None, compressed=False, reflects=True, status=404),
    Page("404 of a slug, cross-site", "/o/gibt-es-nicht/", "cross-site", compressed=False, reflects=True, status=404),
    Page("404 of a slug, same-origin", "/o/gibt-es-nicht/", "same-origin", compressed=True, reflects=True, status=404),
    Page("404 of no route", "/nirgendwo/abc", None, compressed=False, reflects=True, status=404),
    Page("404 of no route, typed", "/nirgendwo/abc", "none", compressed=True, reflects=True, status=404),
]


@pytest.fixture
def owner_org(make_user, make_org):
    owner = make_user(name="Olga Owner")
    return owner, make_org("Kompressions GmbH", owner=owner)


@pytest.fixture
def viewer_org(make_user, make_org, login):
    viewer = make_user(name="Vera Viewer")
    org = make_org("Kompressions GmbH", members={viewer: Role.viewer})
    login(viewer)
    return org


@pytest.mark.parametrize("accept", [GZIP, BROWSER], ids=["gzip", "gzip-and-br"])
@pytest.mark.parametrize("case", PAGES, ids=lambda case: case.name)
def test_a_page_is_compressed_by_the_class_of_its_address(client, viewer_org, case, accept):
    url = case.address.format(slug=viewer_org.slug)
    site = {"Sec-Fetch-Site": case.fetch_site} if case.fetch_site else {}
    plain = client.get(url, headers=site)
    sent = client.get(url, headers={**site, **accept})
    assert plain.status_code == sent.status_code == case.status
    assert plain.mimetype == sent.mimetype == "text/html" and len(plain.data) >= MIN_SIZE
    assert "Content-Encoding" not in plain.headers
    # The page's own Vary values are kept; Sec-Fetch-Site where it decided.
    assert _vary(plain) <= _vary(sent) and "Accept-Encoding" in _vary(sent)
    assert ("Sec-Fetch-Site" in _vary(sent)) == case.reflects
    if case.compressed:
        # Pages are gzip only, also where the client takes brotli: see the next test.
        assert sent.headers["Content-Encoding"] == "gzip"
        body = gzip.decompress(sent.data)
        assert int(sent.headers["Content-Length"]) == len(sent.data) < len(body)
        token = TOKEN.search(body)
        # The CSRF token is sent as it is, outside the compression.
        assert token is not None and token.group(1) in sent.data
    else:
        assert "Content-Encoding" not in sent.headers
        body = sent.data
    assert _without_tokens(body.decode()) == _without_tokens(plain.text)
    assert sent.headers.get("Cache-Control") == plain.headers.get("Cache-Control")
    assert sent.headers.get("Content-Security-Policy") == plain.headers.get("Content-Security-Policy")


def test_a_page_goes_out_plain_to_a_client_that_takes_only_brotli(client, viewer_org):
    # brotli's history cannot be started afresh after the CSRF token, as gzip's can; every browser takes gzip.
    page = client.get(f"/o/{viewer_org.slug}/team/", headers=BROTLI_ONLY)
    assert page.status_code == 200 and "Content-Encoding" not in page.headers
    assert "Accept-Encoding" in _vary(page)


def test_the_compressed_length_of_a_page_tells_nothing_of_its_token(client, viewer_org):
    # The page with any other token of the same length, compressed the same way, is exactly as long.
    sent = client.get(f"/o/{viewer_org.slug}/team/?q=abc", headers={"Sec-Fetch-Site": "same-origin", **GZIP})
    body = gzip.decompress(sent.data)
    token = TOKEN.search(body).group(1)
    for other in (token[:-1] + b"x", token[::-1], b"A" * len(token)):
        assert len(gzipped(body.replace(token, other), hidden=other)) == len(sent.data)
    assert gzipped(body, hidden=token) == sent.data


@dataclass(frozen=True)
class Api:
    """A JSON answer to a bearer token: method, address, body and status."""

    name: str
    method: str
    address: str
    body: dict | None
    status: int


APIS = [
    Api("200 list", "GET", "/api/v1/cycles?limit=50", None, 200),
    Api(
        "422 problem",
        "POST",
        "/api/v1/cycles",
        {"title": "", "category": "x", "hours_per_week": "z", "kpi_direction": "up"},
        422,
    ),
]


@pytest.fixture
def with_cycles(session, owner_org):
    owner, org = owner_org
    with tenancy.tenant_context(session, org.id):
        build_chain(session, SHOP, date.today() - timedelta(days=3), owner.id, seed=3)
        trends.recompute(session)
        session.commit()
    return org


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [(GZIP, "gzip"), (BROWSER, "br"), (BROTLI_ONLY, "br"), ({"Accept-Encoding": "br;q=0.5, gzip"}, "gzip")],
    ids=["gzip", "gzip-and-br", "br-only", "gzip-preferred"],
)
@pytest.mark.parametrize("fetch_site", [None, "cross-site"], ids=["no-fetch-site", "cross-site"])
@pytest.mark.parametrize("case", APIS, ids=lambda case: case.name)
def test_an_api_answer_is_compressed_when_accepted(
    client, session, owner_org, with_cycles, case, accept, encoding, fetch_site
):
    owner, org = owner_org
    token = make_token(session, org, owner)
    site = {"Sec-Fetch-Site": fetch_site} if fetch_site else {}
    plain = client.open(case.address, method=case.method, json=case.body, headers=bearer(token, **site))
    sent = client.open(case.address, method=case.method, json=case.body, headers=bearer(token, **site, **accept))
    assert plain.status_code == sent.status_code == case.status and len(plain.data) >= MIN_SIZE
    assert "Content-Encoding" not in plain.headers
    # The bearer token is no cookie a foreign site could make a browser send: JSON never depends on the site.
    assert sent.headers["Content-Encoding"] == encoding and "Sec-Fetch-Site" not in _vary(sent)
    assert _vary(plain) <= _vary(sent) and "Accept-Encoding" in _vary(sent)
    assert sent.mimetype == plain.mimetype in ("application/json", "application/problem+json")
    body = gzip.decompress(sent.data) if encoding == "gzip" else brotli.decompress(sent.data)
    assert body == plain.data and int(sent.headers["Content-Length"]) == len(sent.data)


def test_a_small_api_error_goes_out_as_it_is(client, session, owner_org):
    owner, org = owner_org
    missing = client.get("/api/v1/cycles/999999", headers=bearer(make_token(session, org, owner), **BROWSER))
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert len(missing.data) < MIN_SIZE and "Content-Encoding" not in missing.headers


def test_small_answers_stay_plain(client, viewer_org):
    health = client.get("/healthz", headers=BROWSER)
    assert health.status_code == 200 and len(health.data) < MIN_SIZE
    assert "Content-Encoding" not in health.headers
    json_error = client.get("/o/gibt-es-nicht/", headers={"Accept": "application/json", **BROWSER})
    assert json_error.status_code == 404 and json_error.mimetype == "application/json"
    assert "Content-Encoding" not in json_error.headers


def test_a_pdf_download_goes_out_as_it_is(client, login, company_with_scaled_cycle):
    org, _owner, admin, cycle = company_with_scaled_cycle
    login(admin)
    response = client.get(f"/o/{org.slug}/cycles/{cycle.id}/business-case.pdf", headers=BROWSER)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Content-Encoding" not in response.headers
    assert response.data.startswith(b"%PDF-")


@pytest.fixture
def cached_dashboard(with_cycles, redis_url, login, owner_org):
    login(owner_org[0])
    page_cache.configure(redis_url, prefix=f"engpass-test:{uuid4().hex}:")
    yield with_cycles
    page_cache.configure(None)


def test_the_page_cache_serves_the_same_page_compressed_and_plain(client, cached_dashboard, count_queries):
    url = f"/o/{cached_dashboard.slug}/"
    for _ in range(2):  # the first visit records the organization and the CSRF secret, the second stores
        assert client.get(url).status_code == 200
    with count_queries() as counter:
        plain = client.get(url)
        packed = client.get(url, headers=GZIP)
        browser = client.get(url, headers=BROWSER)
        squeezed = client.get(url, headers=BROTLI_ONLY)
    assert counter.count == 0
    assert "Content-Encoding" not in plain.headers and plain.text.count("<svg") == 5
    # The page is stored gzip-compressed and sent as stored to whoever takes gzip; plain to the others.
    assert packed.headers["Content-Encoding"] == browser.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in squeezed.headers
    assert gzip.decompress(packed.data) == plain.data == gzip.decompress(browser.data) == squeezed.data
    for response in (packed, browser, squeezed):
        assert "Accept-Encoding" in _vary(response) and "Sec-Fetch-Site" not in _vary(response)
        assert response.headers["Cache-Control"] == "private, no-store"
        assert int(response.headers["Content-Length"]) == len(response.data)


def test_the_page_cache_sends_a_reflecting_address_compressed_only_from_inside(client, cached_dashboard):
    url = f"/o/{cached_dashboard.slug}/?von=mail"
    for _ in range(2):
        client.get(url, headers=GZIP)
    outside = client.get(url, headers={"Sec-Fetch-Site": "cross-site", **GZIP})
    inside = client.get(url, headers={"Sec-Fetch-Site": "same-origin", **GZIP})
    assert outside.status_code == inside.status_code == 200
    assert "Content-Encoding" not in outside.headers and inside.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(inside.data) == outside.data
    assert {"Accept-Encoding", "Sec-Fetch-Site"} <= _vary(outside) & _vary(inside)
