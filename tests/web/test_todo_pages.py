"""The to-do list "Was ist zu tun?": per organization and across a user's organizations, by role."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from engpass import tenancy
from engpass.cycles import service
from engpass.cycles.models import Category, KpiDirection, SolutionType
from engpass.demo.cycles import METALLBAU, SHOP, build_chain
from engpass.organizations.models import Role
from engpass.reminders.views import EVERYWHERE_SHOWN
from engpass.reminders.views import PAGE_SIZE as TODO_PAGE


def _today() -> date:
    return datetime.now(UTC).date()


def _text(response) -> str:
    return response.get_data(as_text=True).replace("\xa0", " ")


def _cycle(session, org, owner_id, title, *, named_days_ago=0, overdue_days=None):
    """A cycle through the services; with ``overdue_days`` a prototype that many days past its target."""
    with tenancy.tenant_context(session, org.id):
        cycle = service.create_cycle(
            session,
            title=title,
            category=Category.quoting,
            why="Größter Hebel",
            owner_id=owner_id,
            actor_id=None,
            confirm_second_open=True,
        )
        cycle.bottleneck_at = cycle.bottleneck_at - timedelta(days=named_days_ago)
        if overdue_days is not None:
            service.save_baseline(
                session,
                cycle,
                {
                    "hours_per_week": Decimal(14),
                    "kpi_name": "Angebotsdauer",
                    "kpi_unit": "Tage",
                    "kpi_direction": KpiDirection.lower,
                    "kpi_baseline": Decimal(9),
                },
                None,
                None,
            )
            service.save_solution(
                session, cycle, {"solution_what": "Vorlage", "solution_type": SolutionType.other}, None
            )
            target = _today() - timedelta(days=overdue_days)
            service.start_prototype(
                session, cycle, {"prototype_start": target - timedelta(weeks=4), "prototype_target": target}, None
            )
        session.commit()
        return cycle


@pytest.fixture
def team(session, make_user, make_org):
    """Sabine owns the company; Jonas is a member, Vera a viewer. Days count in UTC here."""
    sabine, jonas, vera = make_user(name="Sabine"), make_user(name="Jonas"), make_user(name="Vera")
    org = make_org("Müller Metallbau GmbH", owner=sabine, members={jonas: Role.member, vera: Role.viewer})
    org.timezone = "UTC"
    session.commit()
    cycles = {
        # Named ten days ago, still without numbers: due for two days.
        "leads": _cycle(session, org, jonas.id, "Leads qualifizieren", named_days_ago=10),
        # Nobody responsible: due since it was named, three days ago.
        "nobody": _cycle(session, org, None, "Reporting ohne Verantwortliche", named_days_ago=3),
        # Target date three days ago.
        "quotes": _cycle(session, org, sabine.id, "Angebote beschleunigen", named_days_ago=60, overdue_days=3),
    }
    return org, {"sabine": sabine, "jonas": jonas, "vera": vera}, cycles


def _form_links(html: str) -> set[str]:
    """The resolving forms a page links to (the cycle page's sections are not forms)."""
    return set(re.findall(r'href="(/o/[^"]+/cycles/\d+/(?:baseline|bottleneck|measurements/new|next))"', html))


def test_owner_sees_own_and_unowned_cycles_with_a_button_to_each_form(client, login, team):
    org, people, cycles = team
    login(people["sabine"])
    page = _text(client.get(f"/o/{org.slug}/todo"))
    assert "Was ist zu tun?" in page
    assert "Angebote beschleunigen" in page and "Reporting ohne Verantwortliche" in page
    assert "Leads qualifizieren" not in page
    base = f"/o/{org.slug}/cycles"
    assert _form_links(page) == {
        f"{base}/{cycles['quotes'].id}/measurements/new",
        f"{base}/{cycles['nobody'].id}/bottleneck",
    }
    assert "Seit 3 Tagen fällig" in page
    assert "Zieltermin" in page and "Für diesen Zyklus ist niemand verantwortlich." in page
    assert f'href="{base}/{cycles["quotes"].id}/#prototype"' in page


def test_member_sees_only_the_cycles_they_own_and_everything_under_all(client, login, team):
    org, people, cycles = team
    login(people["jonas"])
    mine = _text(client.get(f"/o/{org.slug}/todo"))
    assert "Leads qualifizieren" in mine and "Angebote beschleunigen" not in mine
    assert _form_links(mine) == {f"/o/{org.slug}/cycles/{cycles['leads'].id}/baseline"}
    assert "Ist-Zustand quantifizieren" in mine and "Seit 2 Tagen fällig" in mine

    everything = _text(client.get(f"/o/{org.slug}/todo?show=all"))
    for title in ("Leads qualifizieren", "Angebote beschleunigen", "Reporting ohne Verantwortliche"):
        assert title in everything
    assert "Verantwortlich: Sabine" in everything and "Verantwortlich: Jonas" in everything
    assert "Inhaber und Administratoren übernehmen" in everything
    # The longest open first (three days, then two); a tie goes by the method's order of the rules.
    order = [everything.index(t) for t in ("Reporting ohne", "Leads qualifizieren", "Angebote beschleunigen")]
    assert order == sorted(order)
    assert len(_form_links(everything)) == 3


def test_viewer_reads_the_list_without_buttons(client, login, team):
    org, people, _cycles = team
    login(people["vera"])
    mine = _text(client.get(f"/o/{org.slug}/todo"))
    assert "Für Sie steht nichts an." in mine
    assert "3 Punkte sind für andere offen." in mine
    everything = _text(client.get(f"/o/{org.slug}/todo?show=all"))
    assert "Angebote beschleunigen" in everything
    assert _form_links(everything) == set()
    assert "Messung erfassen" not in everything


def test_an_organization_with_nothing_open_says_all_is_done(client, make_user, make_org, login):
    owner = make_user()
    org = make_org(owner=owner)
    login(owner)
    for view in ("mine", "all"):
        page = _text(client.get(f"/o/{org.slug}/todo?show={view}"))
        assert "Alles erledigt." in page


@pytest.mark.parametrize("query", ["?show=nonsense", "?show=ALL", "?show=", "?show=mine&show=all", "?show=%C3%A4" * 3])
def test_an_unknown_view_shows_the_users_own_list(client, login, team, query):
    org, people, _cycles = team
    login(people["jonas"])
    response = client.get(f"/o/{org.slug}/todo{query}")
    assert response.status_code == 200
    page = _text(response)
    assert "Leads qualifizieren" in page and "Angebote beschleunigen" not in page
    assert re.search(r'aria-current="page">Meine', page)


def test_another_organizations_list_answers_404(client, make_user, make_org, login, team):
    org, _people, _cycles = team
    outsider = make_user()
    make_org("Eigene Firma", owner=outsider)
    login(outsider)
    response = client.get(f"/o/{org.slug}/todo?show=all")
    assert response.status_code == 404
    assert "Leads" not in response.text and "Metallbau" not in response.text


def test_anonymous_visitors_are_sent_to_login(client, team):
    org, _people, _cycles = team
    for url in (f"/o/{org.slug}/todo", "/todo"):
        response = client.get(url)
        assert response.status_code == 302 and response.location.startswith("/login")


def test_navigation_and_dashboard_lead_to_the_list(client, login, team):
    org, people, _cycles = team
    login(people["sabine"])
    board = _text(client.get(f"/o/{org.slug}/cycles/"))
    assert f'href="/o/{org.slug}/todo"' in board and ">Zu tun<" in board
    dashboard = _text(client.get(f"/o/{org.slug}/"))
    assert f'href="/o/{org.slug}/todo?show=all"' in dashboard
    assert "Reporting ohne Verantwortliche" in dashboard


def test_english_speakers_get_the_list_in_english(client, session, login, team):
    org, people, _cycles = team
    people["sabine"].locale = "en"
    session.commit()
    login(people["sabine"])
    page = _text(client.get(f"/o/{org.slug}/todo"))
    assert "What needs doing?" in page and "Due for 3 days" in page and "Enter a measurement" in page


# --- across organizations --------------------------------------------------------------------------


def test_the_list_across_organizations_groups_by_organization(client, session, make_user, make_org, login, team):
    org, people, cycles = team
    jonas = people["jonas"]
    other = make_org("Schneider Logistik KG", owner=make_user(), members={jonas: Role.viewer})
    foreign = _cycle(session, other, None, "Fehlerquote senken", named_days_ago=9)
    unrelated = make_org("Fremde AG", owner=make_user())
    _cycle(session, unrelated, None, "Geheimer Engpass", named_days_ago=30)
    login(jonas)

    everything = _text(client.get("/todo?show=all"))
    assert "Müller Metallbau GmbH" in everything and "Schneider Logistik KG" in everything
    assert "Fehlerquote senken" in everything and "Leads qualifizieren" in everything
    assert "Fremde AG" not in everything and "Geheimer Engpass" not in everything
    # Buttons where Jonas is a member, none where he only reads; every link names its own organization.
    assert f"/o/{org.slug}/cycles/{cycles['leads'].id}/baseline" in _form_links(everything)
    assert not any(link.startswith(f"/o/{other.slug}/") for link in _form_links(everything))
    assert f'href="/o/{other.slug}/cycles/{foreign.id}/#baseline"' in everything

    response = client.get("/todo")
    assert response.headers["Cache-Control"] == "private, no-store"
    mine = _text(response)
    assert "Leads qualifizieren" in mine and "Fehlerquote senken" not in mine
    assert "Nichts offen in:" in mine and "Schneider Logistik KG" in mine
    org_page = _text(client.get(f"/o/{org.slug}/todo"))
    assert 'href="/todo?show=mine"' in org_page


def test_the_list_across_organizations_without_any_sends_to_the_welcome_page(client, make_user, login):
    loner = make_user()
    login(loner)
    response = client.get("/todo")
    assert response.status_code == 302 and response.location == "/welcome"


# --- a fixed number of queries -----------------------------------------------------------------------


def _fill(session, org, owner, chain, seed=7):
    with tenancy.tenant_context(session, org.id):
        build_chain(session, chain, _today() - timedelta(days=40), owner.id, seed=seed)
        session.commit()
    # Unowned and overdue cycles on top, so that every rule has rows to read.
    _cycle(session, org, None, "Ohne Verantwortliche", named_days_ago=20)


def test_query_count_does_not_grow_with_the_organizations_cycles(
    client, session, make_user, make_org, login, count_queries
):
    owner = make_user()
    small, large = make_org("Klein GmbH", owner=owner), make_org("Groß GmbH", owner=owner)
    _fill(session, small, owner, SHOP[:1])
    _fill(session, large, owner, METALLBAU + SHOP)
    login(owner)
    counts = []
    for org in (small, large):
        client.get(f"/o/{org.slug}/cycles/")  # records the organization as last used, outside the count
        with count_queries() as counted:
            response = client.get(f"/o/{org.slug}/todo?show=all")
        assert response.status_code == 200
        counts.append(counted.count)
    assert counts[0] == counts[1] <= 4, counts


def test_query_count_across_organizations_is_one_per_organization(
    client, session, make_user, make_org, login, count_queries
):
    few, many = make_user(), make_user()
    for name in ("Klein A", "Klein B"):
        org = make_org(name, owner=few)
        _fill(session, org, few, SHOP[:1])
    for name in ("Groß A", "Groß B"):
        org = make_org(name, owner=many)
        _fill(session, org, many, METALLBAU + SHOP)

    def count(user) -> int:
        client.post("/logout")
        login(user)
        with count_queries() as counted:
            assert client.get("/todo?show=all").status_code == 200
        return counted.count

    two_small, two_large = count(few), count(many)
    assert two_small == two_large, (two_small, two_large)
    third = make_org("Groß C", owner=many)
    _fill(session, third, many, METALLBAU)
    assert count(many) == two_large + 1


def test_the_list_across_organizations_on_a_database_of_its_own(settings, databases, live_engine):
    """Committed data and connections of their own, as in production (no test transaction around it): each
    organization's own session must not wait for the request's, which on SQLite holds the write lock."""
    from uuid import uuid4

    from sqlalchemy.orm import Session

    from engpass import create_app
    from engpass.accounts.service import sign_up
    from engpass.organizations.service import create_organization
    from tests.support.accounts import PASSWORD
    from tests.support.committed import delete_committed

    tag = uuid4().hex[:8]
    with Session(live_engine, expire_on_commit=False) as s:
        user, first = sign_up(s, name="Zwei", email=f"todo-{tag}@example.com", password=PASSWORD, company=tag)
        second = create_organization(s, f"Zweite {tag}", user)
        s.commit()
    app = create_app(settings)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    try:
        client = app.test_client()
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
        page = client.get("/todo")
        assert page.status_code == 200
        assert first.name in _text(page) and second.name in _text(page)
    finally:
        delete_committed(databases, second.id, user.id)
        delete_committed(databases, first.id, user.id)


# --- pages --------------------------------------------------------------------------------------------


def _titles(html: str) -> list[str]:
    return re.findall(r'class="todo__title" href="[^"]+">([^<]+)<', html)


@pytest.fixture
def crowded(session, make_user, make_org):
    """60 open cycles nobody is responsible for, each due since it was named: 60 items for the owner."""
    owner = make_user(name="Olga")
    org = make_org("Voll GmbH", owner=owner)
    org.timezone = "UTC"
    session.commit()
    for i in range(60):
        _cycle(session, org, None, f"Engpass {i:02d}", named_days_ago=i)
    return org, owner


def test_the_list_pages_its_items_and_counts_them_all(client, login, crowded):
    org, owner = crowded
    login(owner)
    first = _text(client.get(f"/o/{org.slug}/todo?show=all"))
    assert len(_titles(first)) == TODO_PAGE
    counts = re.findall(r'class="viewswitch__count">(\d+)<', first)
    total = int(counts[1])
    # Each cycle is unowned, and those named more than a week ago lack their numbers too.
    assert total > 60 and int(counts[0]) == total
    last = -(-total // TODO_PAGE)
    assert f"Seite 1 von {last}" in first and f"Punkte 1 bis {TODO_PAGE} von {total}" in first
    assert f'href="/o/{org.slug}/todo?page=2&amp;show=all"' in first
    pages = [_titles(_text(client.get(f"/o/{org.slug}/todo?show=all&page={n}"))) for n in range(1, last + 1)]
    assert sum(map(len, pages)) == total and pages[0] == _titles(first)
    # The longest open first, across pages.
    assert pages[0][0] == "Engpass 59" and pages[-1][-1] == "Engpass 00"
    # Past the last page: the last page; anything but a page number: 404.
    assert _titles(_text(client.get(f"/o/{org.slug}/todo?show=all&page=40"))) == pages[-1]
    for bad in ("0", "-2", "zwei", "1e3", ""):
        assert client.get(f"/o/{org.slug}/todo?page={bad}").status_code == 404, bad


def test_a_page_of_the_list_answers_404_in_another_organization(client, make_user, make_org, login, crowded):
    org, _owner = crowded
    outsider = make_user()
    make_org("Eigene Firma", owner=outsider)
    login(outsider)
    response = client.get(f"/o/{org.slug}/todo?show=all&page=2")
    assert response.status_code == 404 and "Engpass 0" not in response.text and "Voll GmbH" not in response.text


def test_the_list_pages_in_english(client, session, login, crowded):
    org, owner = crowded
    owner.locale = "en"
    session.commit()
    login(owner)
    page = _text(client.get(f"/o/{org.slug}/todo?page=2"))
    assert re.search(r"Page 2 of \d", page) and ">Previous<" in page and ">Next<" in page
    assert f"Items {TODO_PAGE + 1} to {2 * TODO_PAGE} of" in page


def test_the_list_across_organizations_shows_each_ones_longest_open_and_links_to_the_rest(
    client, session, login, crowded
):
    org, owner = crowded
    login(owner)
    page = _text(client.get("/todo?show=all"))
    assert len(_titles(page)) == EVERYWHERE_SHOWN
    total = int(re.findall(r'class="viewswitch__count">(\d+)<', page)[1])
    assert f'href="/o/{org.slug}/todo?show=all">Alle {total} offenen Punkte in Voll GmbH<' in page


def test_query_count_of_a_page_does_not_grow_from_3_to_60_open_cycles(
    client, session, make_user, make_org, login, count_queries, crowded
):
    large, owner = crowded
    small = make_org("Klein GmbH", owner=owner)
    for i in range(3):
        _cycle(session, small, None, f"Klein {i}", named_days_ago=i)
    login(owner)
    counts = []
    for org in (small, large):
        client.get(f"/o/{org.slug}/cycles/")  # records the organization as last used, outside the count
        for query in ("?show=all", "?show=all&page=2", "?show=mine&page=3"):
            with count_queries() as counted:
                response = client.get(f"/o/{org.slug}/todo{query}")
            assert response.status_code == 200
            counts.append(counted.count)
    assert len(set(counts)) == 1 and counts[0] <= 4, counts
