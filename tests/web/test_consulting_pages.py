"""Consultants through the web: the client's consultants page, the consultancy's clients page, the banner,
the client's audit log of what consultants did, revocation on the next request (also from the page cache),
and the portfolio with a fixed number of queries."""

from __future__ import annotations

import gzip
import hashlib
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select

from engpass import page_cache as page_cache_module
from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel, AccessRequest, ClientAccess, RequestStatus
from engpass.consulting.portfolio import reflects_nothing
from engpass.consulting.views import PAGE_SIZE as PORTFOLIO_PAGE
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Cycle
from engpass.demo.cycles import SHOP, build_chain
from engpass.organizations.models import Organization, OrgKind
from engpass.page_cache import page_cache
from engpass.radar import service as radar
from engpass.trends import service as trends
from engpass.trends.models import TrendState
from tests.support.cycles import BASELINE_FORM


@pytest.fixture
def firm(make_user, make_org):
    petra = make_user("petra@weber.example", "Petra Weber")
    org = make_org("Weber & Partner", owner=petra, kind=OrgKind.consultancy)
    return org, petra


@pytest.fixture
def client_org(make_user, make_org):
    sabine = make_user("sabine@mueller.example", "Sabine Müller")
    org = make_org("Müller Metallbau GmbH", owner=sabine)
    return org, sabine


def _switch(client, login, user):
    client.post("/logout")
    login(user)


def test_grant_by_code_revoke_and_the_banner(client, session, login, firm, client_org):
    consultancy, petra = firm
    org, sabine = client_org
    login(petra)
    page = client.get(f"/o/{consultancy.slug}/clients")
    assert page.status_code == 200
    code = re.search(r'data-testid="invitation-code">([A-Z0-9-]+)<', page.text).group(1)
    assert client.get(f"/o/{org.slug}/").status_code == 404

    _switch(client, login, sabine)
    assert client.get(f"/o/{org.slug}/settings/consultants").status_code == 200
    wrong = client.post(f"/o/{org.slug}/settings/consultants", data={"code": "AAAA-BBBB-CCCC", "level": "edit"})
    assert wrong.status_code == 422 and "Keine Beratung hat diesen Einladungscode" in wrong.text
    granted = client.post(f"/o/{org.slug}/settings/consultants", data={"code": code.lower(), "level": "edit"})
    assert granted.status_code == 302
    listed = client.get(f"/o/{org.slug}/settings/consultants").text
    assert "Weber &amp; Partner" in listed and "Zugriff entziehen" in listed

    _switch(client, login, petra)
    home = client.get(f"/o/{org.slug}/")
    assert home.status_code == 200
    assert "Sie arbeiten als Berater bei Müller Metallbau GmbH, für Weber &amp; Partner." in home.text
    # No settings, no audit log, no consultants page for consultants: those stay the client's own.
    for path in ("settings", "audit/", "settings/consultants"):
        assert client.get(f"/o/{org.slug}/{path}").status_code == 403
    # The consultancy's own pages have no banner.
    assert "Sie arbeiten als Berater" not in client.get(f"/o/{consultancy.slug}/").text
    portfolio = client.get(f"/o/{consultancy.slug}/portfolio")
    assert portfolio.status_code == 200 and "Müller Metallbau GmbH" in portfolio.text

    _switch(client, login, sabine)
    access = consulting.active_access(session, consultancy.id, org.id)
    assert client.post(f"/o/{org.slug}/settings/consultants/{access.id}/revoke").status_code == 302
    _switch(client, login, petra)
    assert client.get(f"/o/{org.slug}/").status_code == 404
    assert "Müller Metallbau" not in client.get(f"/o/{consultancy.slug}/portfolio").text


def test_request_approve_and_decline_through_the_pages(client, session, login, make_org, firm, client_org):
    consultancy, petra = firm
    org, sabine = client_org
    login(petra)
    sent = client.post(
        f"/o/{consultancy.slug}/clients",
        data={"client": f"http://engpass.test/o/{org.slug}/", "level": "read", "message": "Wir helfen gern."},
    )
    assert sent.status_code == 302
    unknown = client.post(f"/o/{consultancy.slug}/clients", data={"client": "gibt-es-nicht", "level": "read"})
    assert unknown.status_code == 302  # the same answer: no hint whether it exists
    page = client.get(f"/o/{consultancy.slug}/clients").text
    assert page.count("wartet auf den Kunden") == 2

    _switch(client, login, sabine)
    settings = client.get(f"/o/{org.slug}/settings/consultants").text
    assert "Weber &amp; Partner" in settings and "Wir helfen gern." in settings
    request = session.scalars(select(AccessRequest).where(AccessRequest.client_id == org.id)).one()
    approved = client.post(f"/o/{org.slug}/settings/consultants/requests/{request.id}/approve", data={"level": "edit"})
    assert approved.status_code == 302
    session.expire_all()
    assert session.get(AccessRequest, request.id).status == RequestStatus.approved
    assert consulting.active_access(session, consultancy.id, org.id).level == AccessLevel.edit

    other = make_org("Zweite GmbH", owner=sabine)
    _switch(client, login, petra)
    client.post(f"/o/{consultancy.slug}/clients", data={"client": other.slug, "level": "read"})
    _switch(client, login, sabine)
    second = session.scalars(select(AccessRequest).where(AccessRequest.client_id == other.id)).one()
    # Answered from the wrong organization: nothing happens.
    client.post(f"/o/{org.slug}/settings/consultants/requests/{second.id}/decline")
    session.expire_all()
    assert session.get(AccessRequest, second.id).status == RequestStatus.pending
    client.post(f"/o/{other.slug}/settings/consultants/requests/{second.id}/decline")
    session.expire_all()
    assert session.get(AccessRequest, second.id).status == RequestStatus.declined
    _switch(client, login, petra)
    assert "abgelehnt" in client.get(f"/o/{consultancy.slug}/clients").text


def _granted_with_a_cycle(
    session: Any, consultancy: Organization, org: Organization, owner: Any, level: AccessLevel, title: str
) -> Cycle:
    """``owner`` grants ``consultancy`` access to ``org`` and names a quoting bottleneck ``title`` there."""
    consulting.grant(session, org, consultancy, level, owner.id)
    with tenancy.tenant_context(session, org.id):
        cycle = cycles.create_cycle(
            session, title=title, category=Category.quoting, why="", owner_id=owner.id, actor_id=owner.id
        )
        session.commit()
    return cycle


def test_the_clients_audit_log_shows_what_the_consultant_changed(client, session, login, make_user, firm, client_org):
    consultancy, petra = firm
    org, sabine = client_org
    cycle = _granted_with_a_cycle(session, consultancy, org, sabine, AccessLevel.edit, "Angebote 9 Tage")
    login(petra)
    saved = client.post(f"/o/{org.slug}/cycles/{cycle.id}/baseline", data=BASELINE_FORM)
    assert saved.status_code == 302, saved.text
    with tenancy.tenant_context(session, org.id):
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "cycle.baseline_updated")).one()
    assert (event.actor_id, event.via_organization_id) == (petra.id, consultancy.id)
    assert Decimal(event.details["changes"]["hours_per_week"][1]) == 14
    # In the consultancy's own log nothing of the client's.
    with tenancy.tenant_context(session, consultancy.id):
        assert not session.scalars(select(AuditEvent).where(AuditEvent.action.like("cycle.%"))).all()

    _switch(client, login, sabine)
    log = client.get(f"/o/{org.slug}/audit/")
    assert log.status_code == 200
    assert "Petra Weber" in log.text and "Berater von Weber &amp; Partner" in log.text
    assert "Ist-Zustand geändert" in log.text

    def actions(query):
        return re.findall(r'data-action="([a-z_.]+)"', client.get(f"/o/{org.slug}/audit/{query}").text)

    petras = {"cycle.baseline_updated", "cycle.process_updated", "cycle.stage_changed"}
    assert set(actions("?consultants=1")) == petras == set(actions(f"?actor={petra.id}"))
    assert actions(f"?actor={sabine.id}") == ["cycle.created", "consulting.access_granted"]
    assert actions("?action=cycle.created") == ["cycle.created"]
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert actions(f"?from={tomorrow}") == []
    assert len(actions(f"?from=2020-01-01&to={tomorrow}")) == 5
    assert client.get(f"/o/{org.slug}/audit/?from=nonsense&actor=abc").status_code == 200


def test_a_read_consultant_cannot_change_anything(client, session, login, firm, client_org):
    consultancy, petra = firm
    org, sabine = client_org
    cycle = _granted_with_a_cycle(session, consultancy, org, sabine, AccessLevel.read, "Angebote")
    login(petra)
    assert client.get(f"/o/{org.slug}/cycles/{cycle.id}/").status_code == 200
    assert client.post(f"/o/{org.slug}/cycles/{cycle.id}/baseline", data=BASELINE_FORM).status_code == 403


@pytest.fixture
def cached(redis_url, app):
    page_cache.configure(redis_url, prefix=f"engpass-test:{uuid4().hex}:")
    yield page_cache
    page_cache.configure(None)


def test_revocation_ends_a_cached_dashboard_on_the_next_request(client, session, login, firm, client_org, cached):
    consultancy, petra = firm
    org, sabine = client_org
    with tenancy.tenant_context(session, org.id):
        build_chain(session, SHOP, date.today() - timedelta(days=3), sabine.id, seed=3)
        trends.recompute(session)
        session.commit()
    access = consulting.grant(session, org, consultancy, AccessLevel.read, sabine.id)
    session.commit()
    login(petra)
    for _ in range(3):
        page = client.get(f"/o/{org.slug}/")
        assert page.status_code == 200 and "Sie arbeiten als Berater" in page.text
    consulting.revoke(session, org, access.id, sabine.id)
    session.commit()
    gone = client.get(f"/o/{org.slug}/")
    assert gone.status_code == 404 and "Müller" not in gone.text


def _clients(session, consultancy, n, tag):
    """``n`` client organizations with access and a portfolio document each, without the services (fast)."""
    orgs = [Organization(name=f"Kunde {tag} {i:03d}", slug=f"kunde-{tag}-{i:03d}") for i in range(n)]
    session.add_all(orgs)
    session.flush()
    session.add_all(ClientAccess(consultancy_id=consultancy.id, client_id=o.id, level=AccessLevel.read) for o in orgs)
    for i, o in enumerate(orgs):
        with tenancy.tenant_context(session, o.id):
            doc = {
                "v": 1,
                "as_of": date.today().isoformat(),
                "level": 1 + i % 5,
                "level_before": 1 + (i + 1) % 5,
                "cycle": {"id": 1000 + i, "title": f"Engpass {i}", "stage": "prototype"},
                "open_cycles": 1,
                "reminders": [["overdue_prototype", (date.today() - timedelta(days=i % 3)).isoformat()]],
                "euros_per_year": "52000",
                "euros_this_year": str(Decimal(i * 100)),
                "last_activity": (date.today() - timedelta(days=i)).isoformat(),
                "forecast_accuracy": str(Decimal(50 + i % 50)),
                "forecast_cycles": 1 + i % 4,
                "warnings": i % 3,
            }
            session.add(TrendState(version=1, computed_version=1, portfolio=doc))
            session.flush()
    session.commit()
    return orgs


def test_portfolio_query_count_is_the_same_at_3_40_and_200_clients_and_a_page_is_bounded(
    client, session, login, make_user, make_org, count_queries
):
    counts = []
    for n in (3, 40, 200):
        owner = make_user()
        consultancy = make_org(f"Beratung {n}", owner=owner, kind=OrgKind.consultancy)
        _clients(session, consultancy, n, f"q{n}")
        _switch(client, login, owner)
        client.get(f"/o/{consultancy.slug}/portfolio")  # records the organization as last used
        for query in ("?sort=overdue", "?sort=overdue&page=2"):
            with count_queries() as counter:
                page = client.get(f"/o/{consultancy.slug}/portfolio{query}")
            assert page.status_code == 200
            counts.append(counter.count)
        # Page 2, or the only page when there is one.
        second = min(n - PORTFOLIO_PAGE, PORTFOLIO_PAGE) if n > PORTFOLIO_PAGE else n
        assert page.text.count('class="portfolio__client"') == second
        first = client.get(f"/o/{consultancy.slug}/portfolio").text
        assert first.count('class="portfolio__client"') == min(n, PORTFOLIO_PAGE)
        assert f"{n} Kunden" in first
    assert len(set(counts)) == 1 and counts[0] <= 4, counts


def _portfolio_slugs(client, consultancy, query=""):
    text = client.get(f"/o/{consultancy.slug}/portfolio{query}").text
    return re.findall(r'class="portfolio__client" href="/o/([a-z0-9-]+)/"', text)


def test_the_portfolio_pages_through_clients_sorted_across_pages(client, session, login, make_user, make_org):
    owner = make_user()
    consultancy = make_org("Beratung Seiten", owner=owner, kind=OrgKind.consultancy)
    orgs = _clients(session, consultancy, 40, "p")
    login(owner)
    first = client.get(f"/o/{consultancy.slug}/portfolio?sort=saved")
    assert "Seite 1 von 2" in first.text and "Kunden 1 bis 25 von 40." in first.text
    # The pager keeps the sort and the filters; sorting starts again on the first page.
    assert f'href="/o/{consultancy.slug}/portfolio?page=2&amp;sort=saved&amp;dir=desc"' in first.text
    assert f'href="/o/{consultancy.slug}/portfolio?sort=saved&amp;dir=asc"' in first.text
    # Sorted before paging: the pages in a row are the whole sorted list, each client once.
    by_saving = [o.slug for o in reversed(orgs)]
    pages = [_portfolio_slugs(client, consultancy, f"?sort=saved&page={n}") for n in (1, 2)]
    assert pages[0] + pages[1] == by_saving
    ascending = _portfolio_slugs(client, consultancy, "?sort=saved&dir=asc&page=2")
    assert ascending == [o.slug for o in orgs[25:]]
    # Filtered, then paged: page numbers count the matching clients.
    assert _portfolio_slugs(client, consultancy, "?level=2&page=1") == [orgs[i].slug for i in range(1, 40, 5)]
    # Past the last page: the last page; anything but a page number: 404.
    assert _portfolio_slugs(client, consultancy, "?page=9") == [o.slug for o in orgs[25:]]
    for bad in ("0", "-1", "x", "1.5", "9999999", ""):
        assert client.get(f"/o/{consultancy.slug}/portfolio?page={bad}").status_code == 404, bad


def test_the_portfolio_pages_answer_404_to_a_consultant_of_another_firm(
    client, session, login, make_user, make_org, firm
):
    owner = make_user()
    consultancy = make_org("Beratung Fremd", owner=owner, kind=OrgKind.consultancy)
    _clients(session, consultancy, 30, "f")
    _consultancy, petra = firm
    login(petra)
    for query in ("", "?page=2", "?sort=saved&page=2"):
        response = client.get(f"/o/{consultancy.slug}/portfolio{query}")
        assert response.status_code == 404 and "Kunde f" not in response.text


def test_the_portfolio_pages_in_english(client, session, login, make_user, make_org):
    owner = make_user()
    owner.locale = "en"
    consultancy = make_org("Beratung Englisch", owner=owner, kind=OrgKind.consultancy)
    _clients(session, consultancy, 30, "e")
    session.commit()
    login(owner)
    page = client.get(f"/o/{consultancy.slug}/portfolio?page=2").text
    assert "Page 2 of 2" in page and "Clients 26 to 30 of 30." in page and ">Previous<" in page


def test_portfolio_sorts_filters_and_links_into_each_client(client, session, login, make_user, make_org):
    owner = make_user()
    consultancy = make_org("Beratung", owner=owner, kind=OrgKind.consultancy)
    orgs = _clients(session, consultancy, 6, "s")
    make_org("Fremder Kunde")
    login(owner)

    def names(query):
        text = client.get(f"/o/{consultancy.slug}/portfolio{query}").text
        return re.findall(r'class="portfolio__client" href="/o/([a-z0-9-]+)/"', text)

    assert names("") == [o.slug for o in orgs]
    assert names("?sort=name&dir=desc") == [o.slug for o in reversed(orgs)]
    assert names("?sort=saved") == [o.slug for o in reversed(orgs)]
    assert names("?sort=activity&dir=asc")[0] == orgs[-1].slug
    # The radar's warning signs, most first; equal counts by name.
    assert names("?sort=warnings") == [orgs[i].slug for i in (2, 5, 1, 4, 0, 3)]
    assert names("?level=2") == [orgs[1].slug]
    assert names("?q=S+003") == [orgs[3].slug]
    assert names("?stage=baseline") == []
    assert len(names("?overdue=1")) == 6
    assert names("?sort=nonsense&level=9&stage=x") == [o.slug for o in orgs]
    page = client.get(f"/o/{consultancy.slug}/portfolio").text
    assert "Fremder Kunde" not in page
    assert "6 Kunden" in page and "▲" in page and "▼" in page and "Warnsignale" in page
    # One click into a client: its dashboard with the banner.
    entered = client.get(f"/o/{orgs[0].slug}/")
    assert entered.status_code == 200 and "Sie arbeiten als Berater bei Kunde s 000" in entered.text


def test_the_portfolio_exists_only_for_consultancies_and_lists_only_active_clients(
    client, session, login, firm, client_org, make_org
):
    consultancy, petra = firm
    org, sabine = client_org
    login(sabine)
    assert client.get(f"/o/{org.slug}/portfolio").status_code == 404
    assert client.get(f"/o/{org.slug}/clients").status_code == 404
    _switch(client, login, petra)
    assert client.get(f"/o/{consultancy.slug}/settings/consultants").status_code == 404
    empty = client.get(f"/o/{consultancy.slug}/portfolio")
    assert "Noch kein Kunde hat Ihnen Zugriff gegeben" in empty.text


def test_portfolio_document_from_a_real_recompute(session, make_user, make_org, firm):
    consultancy, _petra = firm
    owner = make_user()
    org = make_org("Shop GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        build_chain(session, SHOP, date.today() - timedelta(days=3), owner.id, seed=3)
        trends.recompute(session)
        session.commit()
    consulting.grant(session, org, consultancy, AccessLevel.read, None)
    session.commit()
    from engpass.consulting.portfolio import entries

    with tenancy.tenant_context(session, consultancy.id):
        [entry] = entries(session, consultancy.id, date.today())
    assert entry.name == "Shop GmbH" and entry.level is not None and not entry.pending
    assert entry.last_activity is not None and entry.last_activity <= date.today()
    assert entry.euros_this_year >= 0
    with tenancy.tenant_context(session, org.id):
        state = session.scalars(select(TrendState)).one()
        open_findings = len(radar.current(session))
    assert state.portfolio["v"] == 1
    assert entry.warnings == state.portfolio["warnings"] == open_findings > 0


def _cached_portfolio(
    session: Any, client: Any, login: Any, make_user: Any, make_org: Any, name: str, tag: str
) -> tuple[Organization, str, list[Organization]]:
    """A consultancy ``name`` with three clients, its owner logged in and its portfolio requested three times,
    so that the page cache holds it; the consultancy, its portfolio's address and the clients."""
    owner = make_user()
    consultancy = make_org(name, owner=owner, kind=OrgKind.consultancy)
    orgs = _clients(session, consultancy, 3, tag)
    login(owner)
    url = f"/o/{consultancy.slug}/portfolio"
    for _ in range(3):
        assert client.get(url).status_code == 200
    return consultancy, url, orgs


def test_the_portfolio_from_the_page_cache_changes_with_every_client(
    client, session, login, make_user, make_org, cached, count_queries
):
    consultancy, url, orgs = _cached_portfolio(session, client, login, make_user, make_org, "Beratung Cache", "c")
    with count_queries() as counter:
        hit = client.get(url)
    assert hit.status_code == 200 and counter.count == 0
    assert hit.text.count('class="portfolio__client"') == 3

    # A client's figures change (its trend state, written by the workers): the next visit shows it.
    with tenancy.tenant_context(session, orgs[0].id):
        state = session.scalars(select(TrendState)).one()
        state.portfolio = {**state.portfolio, "level": 5, "level_before": 1}
        session.commit()
    assert "5 · " in client.get(url).text
    # A client renames itself.
    renamed = session.get(Organization, orgs[1].id)
    renamed.name = "Umbenannt GmbH"
    session.commit()
    assert "Umbenannt GmbH" in client.get(url).text
    # Access revoked, and another granted: gone at once, and there at once.
    access = consulting.active_access(session, consultancy.id, orgs[2].id)
    consulting.revoke(session, orgs[2], access.id, None)
    session.commit()
    assert orgs[2].name not in client.get(url).text
    newcomer = make_org("Neukunde GmbH")
    consulting.grant(session, newcomer, consultancy, AccessLevel.read, None)
    session.commit()
    page = client.get(url).text
    assert "Neukunde GmbH" in page and page.count('class="portfolio__client"') == 3


def test_the_cached_portfolio_keys_on_page_and_sort_and_moves_rows_between_pages(
    client, session, login, make_user, make_org, cached, count_queries
):
    owner = make_user()
    consultancy = make_org("Beratung Seitencache", owner=owner, kind=OrgKind.consultancy)
    orgs = _clients(session, consultancy, 30, "k")
    login(owner)
    queries = ("", "?page=2", "?sort=saved", "?sort=saved&page=2")
    rendered = {}
    for query in queries:
        for _ in range(3):
            rendered[query] = _portfolio_slugs(client, consultancy, query)
    for query in queries:
        with count_queries() as counter:
            assert _portfolio_slugs(client, consultancy, query) == rendered[query]
        assert counter.count == 0, query
    assert rendered[""][0] == orgs[0].slug and rendered["?page=2"][0] == orgs[25].slug
    assert rendered["?sort=saved"][0] == orgs[-1].slug and rendered["?sort=saved&page=2"][-1] == orgs[0].slug
    # A client on page 2 saves the most: the next visit of page 1 shows it first, though it was not shown there.
    with tenancy.tenant_context(session, orgs[0].id):
        state = session.scalars(select(TrendState)).one()
        state.portfolio = {**state.portfolio, "euros_this_year": "999999"}
        session.commit()
    assert _portfolio_slugs(client, consultancy, "?sort=saved")[0] == orgs[0].slug
    assert orgs[0].slug not in _portfolio_slugs(client, consultancy, "?sort=saved&page=2")


def test_the_cached_portfolio_goes_out_compressed_where_its_address_reflects_nothing_or_from_inside(
    client, session, login, make_user, make_org, cached
):
    owner = make_user()
    consultancy = make_org("Beratung Gzip", owner=owner, kind=OrgKind.consultancy)
    _clients(session, consultancy, 3, "g")
    login(owner)
    url = f"/o/{consultancy.slug}/portfolio"
    gzip_ok = {"Accept-Encoding": "gzip, deflate, br"}
    for query in ("", "?sort=level&dir=desc", "?q=Kunde", "?utm=x"):
        for _ in range(3):
            client.get(url + query)
        plain = client.get(url + query)  # from the page cache
        hit = client.get(url + query, headers=gzip_ok)
        assert plain.headers.get("Content-Encoding") is None and "Accept-Encoding" in plain.headers["Vary"]
        assert plain.text.count('class="portfolio__client"') == 3
        if query in ("?q=Kunde", "?utm=x"):
            # Text from the address (the filter, or the whole address in the language form) beside the CSRF token.
            assert hit.headers.get("Content-Encoding") is None and hit.data == plain.data
        else:
            assert hit.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in hit.headers["Vary"]
            assert gzip.decompress(hit.data) == plain.data and len(hit.data) < len(plain.data) / 3
            # The CSRF token went into the stream as it is (a stored block of its own), not compressed.
            token = re.search(r'name="csrf_token" value="([^"]+)"', plain.text).group(1)
            assert token.encode() in hit.data
    # Asked for from our own pages (the filter form), a filtered page goes out compressed too.
    inside = client.get(url + "?q=Kunde", headers={"Sec-Fetch-Site": "same-origin", **gzip_ok})
    assert inside.headers["Content-Encoding"] == "gzip" and "Sec-Fetch-Site" in inside.headers["Vary"]
    assert gzip.decompress(inside.data) == client.get(url + "?q=Kunde").data
    # A browser that refuses gzip gets the page as it is.
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert refused.headers.get("Content-Encoding") is None and refused.text.count('class="portfolio__client"') == 3


@pytest.mark.parametrize(
    ("query", "compressed"),
    [
        (b"", True),
        (b"sort=overdue&dir=desc&q=&stage=prototype&level=3&overdue=1", True),
        (b"stage=none&level=", True),
        (b"q=a", False),
        (b"q=", True),
        (b"sort=name&sort=level", False),
        (b"sort=nonsense", False),
        (b"level=9", False),
        (b"next=1", False),
        (b"sort=name%26x", False),
        (b"sort=NAME", False),
        (b"q", True),
        (b"sort=saved&page=2", True),
        (b"page=999", True),
        (b"page=1000", False),
        (b"page=02", False),
        (b"page=", False),
    ],
)
def test_which_portfolio_addresses_reflect_nothing(query, compressed):
    assert reflects_nothing(query) is compressed


def test_the_portfolio_tokens_read_in_one_script_survive_a_lost_token_and_a_script_cache_flush(
    client, session, login, make_user, make_org, cached, count_queries, monkeypatch
):
    # A script Redis has never seen: the first call answers NOSCRIPT, then it is loaded and run.
    script = b"-- " + uuid4().hex.encode() + page_cache_module._JOINED
    monkeypatch.setattr(page_cache_module, "_JOINED", script)
    monkeypatch.setattr(page_cache_module, "_JOINED_SHA", hashlib.sha1(script).hexdigest())
    _, url, orgs = _cached_portfolio(session, client, login, make_user, make_org, "Beratung Skript", "t")
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    assert counter.count == 0
    # A client's token lost from Redis (evicted): made anew, so the page is rendered again, then served.
    cached._redis.delete(cached._token_key(("o", orgs[1].id)))
    with count_queries() as counter:
        page = client.get(url)
    assert counter.count > 0 and page.text.count('class="portfolio__client"') == 3
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    assert counter.count == 0


@pytest.mark.parametrize("how", ["script refused", "too many clients"])
def test_the_portfolio_tokens_without_the_script_still_key_the_page(
    client, session, login, make_user, make_org, cached, count_queries, monkeypatch, how
):
    if how == "script refused":
        script = b"return redis.error_reply('" + uuid4().hex.encode() + b"')"
        monkeypatch.setattr(page_cache_module, "_JOINED", script)
        monkeypatch.setattr(page_cache_module, "_JOINED_SHA", hashlib.sha1(script).hexdigest())
    else:
        monkeypatch.setattr(page_cache_module, "JOINED_MAX", 2)
    _, url, orgs = _cached_portfolio(session, client, login, make_user, make_org, "Beratung Ohne Skript", "n")
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    assert counter.count == 0
    renamed = session.get(Organization, orgs[2].id)
    renamed.name = "Anders GmbH"
    session.commit()
    assert "Anders GmbH" in client.get(url).text


def test_an_edit_consultant_names_a_bottleneck_for_a_client_member_and_the_log_says_so(
    client, session, login, firm, client_org
):
    consultancy, petra = firm
    org, sabine = client_org
    consulting.grant(session, org, consultancy, AccessLevel.edit, sabine.id)
    with tenancy.tenant_context(session, org.id):
        cycles.create_cycle(
            session, title="Lager", category=Category.quoting, why="", owner_id=sabine.id, actor_id=sabine.id
        )
    session.commit()
    login(petra)
    form = client.get(f"/o/{org.slug}/cycles/new")
    # The consultant sees no member list: only who is already responsible for a cycle, or nobody.
    assert form.status_code == 200 and "Sabine Müller" in form.text
    data = {
        "title": "Angebote dauern 9 Tage",
        "category": "quoting",
        "why": "Aufträge",
        "owner_id": sabine.id,
        # A consultant leaves the sponsor to the client (docs/decisions.md).
        "sponsor_id": "0",
        "confirm_focus": "y",
    }
    # Consultants are no members: responsible for a client's cycle is one of the client's people.
    refused = client.post(f"/o/{org.slug}/cycles/new", data={**data, "owner_id": petra.id})
    assert refused.status_code == 422
    assert client.post(f"/o/{org.slug}/cycles/new", data=data).status_code == 302
    with tenancy.tenant_context(session, org.id):
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "cycle.created", AuditEvent.actor_id == petra.id)
        ).one()
    assert event.via_organization_id == consultancy.id


def test_a_client_without_cycles_is_no_pending_computation(client, session, login, firm, client_org):
    consultancy, petra = firm
    org, _sabine = client_org
    consulting.grant(session, org, consultancy, AccessLevel.read, None)
    session.commit()
    login(petra)
    page = client.get(f"/o/{consultancy.slug}/portfolio").text
    assert "Müller Metallbau GmbH" in page and "wird berechnet" not in page


def test_inside_a_client_the_switcher_lists_the_consultancys_other_clients(
    client, session, login, make_user, make_org, firm, client_org
):
    consultancy, petra = firm
    org, _sabine = client_org
    other = make_org("Schneider Logistik KG", owner=make_user())
    gone = make_org("Hofmann Steuerberatung", owner=make_user())
    consulting.grant(session, org, consultancy, AccessLevel.edit, None)
    consulting.grant(session, other, consultancy, AccessLevel.read, None)
    revoked = consulting.grant(session, gone, consultancy, AccessLevel.read, None)
    consulting.revoke(session, gone, revoked.id, None)
    session.commit()
    login(petra)

    def switcher(page: str) -> str:
        return re.search(r'<nav class="switcher".*?</nav>', page, re.S).group(0)

    inside = switcher(client.get(f"/o/{org.slug}/").text)
    assert "Kunden von Weber &amp; Partner" in inside
    assert f'href="/o/{other.slug}/"' in inside and "Schneider Logistik KG" in inside
    assert re.search(rf'href="/o/{org.slug}/"\s+aria-current="page"', inside)
    assert gone.slug not in inside, "a revoked access lists nothing"
    # From the other client's page straight back: the switch works both ways.
    assert f'href="/o/{org.slug}/"' in switcher(client.get(f"/o/{other.slug}/").text)
    # In the consultancy itself, the portfolio lists the clients; the switcher stays short.
    assert "Kunden von" not in switcher(client.get(f"/o/{consultancy.slug}/").text)
