"""HTML and JSON answers compressed when the client accepts it, not otherwise; files, small answers and pages
whose address carries text someone else could choose (BREACH) as they are; the page cache's hits both ways."""

from __future__ import annotations

import gzip
import re
from datetime import date, timedelta
from uuid import uuid4

import brotli
import pytest

from engpass import tenancy
from engpass.demo.cycles import SHOP, build_chain
from engpass.page_cache import page_cache
from engpass.trends import service as trends
from tests.support.api import bearer, make_token

GZIP = {"Accept-Encoding": "gzip"}
BROTLI = {"Accept-Encoding": "gzip, deflate, br"}


def _without_tokens(html: str) -> str:
    # The CSRF token is signed with the second it was made in: two renders differ there and nowhere else.
    return re.sub(r'value="[A-Za-z0-9._-]{40,}"', 'value=""', html)


@pytest.fixture
def owner_org(make_user, make_org, login):
    owner = make_user(name="Olga Owner")
    org = make_org("Kompressions GmbH", owner=owner)
    login(owner)
    return owner, org


@pytest.fixture
def with_cycles(session, owner_org):
    owner, org = owner_org
    with tenancy.tenant_context(session, org.id):
        build_chain(session, SHOP, date.today() - timedelta(days=3), owner.id, seed=3)
        trends.recompute(session)
        session.commit()
    return org


def test_a_page_is_gzip_compressed_when_asked_and_plain_when_not(client, owner_org):
    _, org = owner_org
    url = f"/o/{org.slug}/team/"
    plain = client.get(url)
    packed = client.get(url, headers=GZIP)
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    body = gzip.decompress(packed.data)
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(body)
    assert _without_tokens(body.decode()) == _without_tokens(plain.text)
    # The other headers are the page's as always.
    assert packed.headers["Cache-Control"] == "private, no-store"
    assert packed.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_brotli_when_the_client_accepts_it(client, owner_org):
    _, org = owner_org
    packed = client.get(f"/o/{org.slug}/team/", headers=BROTLI)
    assert packed.headers["Content-Encoding"] == "br"
    assert "Kompressions GmbH" in brotli.decompress(packed.data).decode()


def test_an_api_answer_is_compressed_when_asked(client, session, owner_org, with_cycles):
    owner, org = owner_org
    token = make_token(session, org, owner)
    plain = client.get("/api/v1/cycles?limit=50", headers=bearer(token))
    packed = client.get("/api/v1/cycles?limit=50", headers=bearer(token, **GZIP))
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers and plain.json["items"]
    assert packed.headers["Content-Encoding"] == "gzip" and packed.mimetype == "application/json"
    assert gzip.decompress(packed.data) == plain.data


def test_a_page_whose_address_carries_a_query_is_not_compressed(client, owner_org):
    # The address is reflected next to the CSRF token: compressed, its length would tell a guess (BREACH).
    _, org = owner_org
    page = client.get(f"/o/{org.slug}/team/?q=abc", headers=GZIP)
    assert page.status_code == 200 and "Content-Encoding" not in page.headers
    login_page = client.get("/login?next=/o/x/", headers=GZIP)
    assert "Content-Encoding" not in login_page.headers


def test_small_answers_and_errors_stay_plain(client, owner_org):
    health = client.get("/healthz", headers=GZIP)
    assert health.status_code == 200 and len(health.data) < 500
    assert "Content-Encoding" not in health.headers
    missing = client.get("/o/gibt-es-nicht/", headers=GZIP)
    assert missing.status_code == 404 and "Content-Encoding" not in missing.headers


def test_a_pdf_download_goes_out_as_it_is(client, login, company_with_scaled_cycle):
    org, _owner, admin, cycle = company_with_scaled_cycle
    login(admin)
    response = client.get(f"/o/{org.slug}/cycles/{cycle.id}/business-case.pdf", headers=BROTLI)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Content-Encoding" not in response.headers
    assert response.data.startswith(b"%PDF-")


@pytest.fixture
def cached_dashboard(with_cycles, redis_url):
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
        browser = client.get(url, headers=BROTLI)
        squeezed = client.get(url, headers={"Accept-Encoding": "br"})
    assert counter.count == 0
    assert "Content-Encoding" not in plain.headers and plain.text.count("<svg") == 5
    # The page is stored gzip-compressed and sent as stored to whoever takes gzip; br only for those who
    # take nothing else.
    assert packed.headers["Content-Encoding"] == browser.headers["Content-Encoding"] == "gzip"
    assert squeezed.headers["Content-Encoding"] == "br"
    assert gzip.decompress(packed.data) == plain.data == gzip.decompress(browser.data)
    assert brotli.decompress(squeezed.data) == plain.data
    # With a query string the page is cached as well, and sent plain (BREACH).
    for _ in range(2):
        client.get(f"{url}?von=mail", headers=GZIP)
    assert "Content-Encoding" not in client.get(f"{url}?von=mail", headers=GZIP).headers
    for response in (packed, browser, squeezed):
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.headers["Cache-Control"] == "private, no-store"
        assert int(response.headers["Content-Length"]) == len(response.data)
