"""The backlog bounded (issue 20): the open candidates ranked over all of them and shown a page at a time,
the latest picked and dismissed ones with links to their own paged lists, the same queries for 3 and for 60
candidates, bad page numbers, other tenants and consultants on the new lists."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask_babel import refresh
from sqlalchemy import select

from engpass import tenancy
from engpass.candidates import service
from engpass.candidates.models import Candidate, CandidateStatus
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel
from engpass.organizations.models import OrgKind, Role
from engpass.organizations.service import add_member
from tests.support.candidates import backlog_url, candidate_team, picked_with_a_merged_one

OPEN_PAGE = service.OPEN_PAGE
LIST_PAGE = service.LIST_PAGE
LATEST = service.LATEST_SHOWN


def _text(response) -> str:
    return response.get_data(as_text=True).replace("\xa0", " ")


def _ranked_titles(html: str) -> list[str]:
    return re.findall(r'class="candtable__name">([^<]+)<', html)


def _ranks(html: str) -> list[int]:
    return [int(rank) for rank in re.findall(r'class="num candtable__rank">(\d+)<', html)]


def _listed_titles(html: str) -> list[str]:
    return re.findall(r"<li><strong>([^<]+)</strong>", html)


@pytest.fixture
def world(make_user, make_org):
    return candidate_team(make_user, make_org)


def _open(session, org, user, count: int) -> None:
    """``count`` open candidates, "Offen 00" the cheapest: the more hours, the higher the rank."""
    with tenancy.tenant_context(session, org.id):
        for i in range(count):
            service.propose(session, {"title": f"Offen {i:02d}", "hours_per_week": Decimal(i + 1)}, user.id)
        session.commit()


def _decided(session, org, user, status: CandidateStatus, count: int) -> None:
    """``count`` candidates of a status, "… 00" the oldest. Set directly: a pick's cycle is not what is
    measured here (the picked ones show "its cycle was deleted")."""
    with tenancy.tenant_context(session, org.id):
        for i in range(count):
            candidate = service.propose(session, {"title": f"{status.value} {i:02d}"}, user.id)
            if status == CandidateStatus.dismissed:
                service.dismiss(session, candidate, f"Grund {i:02d}", user.id)
            else:
                candidate.status = status
            session.flush()
        session.commit()


def _mixed(session, org, user, count: int) -> None:
    """Open, picked (with a cycle), dismissed and merged candidates, in the proportions of a real backlog."""
    with tenancy.tenant_context(session, org.id):
        for i in range(count):
            candidate = service.propose(
                session, {"title": f"Gemischt {i}", "hours_per_week": Decimal(i % 7) if i % 3 else None}, user.id
            )
            if i % 4 == 1:
                service.pick(
                    session, candidate, actor_id=user.id, owner_id=user.id, who_label="Wer", confirm_second_open=True
                )
            elif i % 4 == 2:
                service.dismiss(session, candidate, "nein", user.id)
            elif i % 4 == 3:
                target = session.scalars(select(Candidate).where(Candidate.status == "open")).first()
                if target is not None and target.id != candidate.id:
                    service.merge(session, candidate, target, user.id)
            session.flush()
        session.commit()


# --- the open backlog, a page at a time -----------------------------------------------------------


def test_the_open_backlog_is_ranked_over_all_and_shown_a_page_at_a_time(client, session, login, world):
    org, owner, member, _viewer = world
    _open(session, org, member, OPEN_PAGE + 5)
    login(owner)
    first = _text(client.get(f"{backlog_url(org)}/"))
    assert len(_ranked_titles(first)) == OPEN_PAGE and _ranks(first) == list(range(1, OPEN_PAGE + 1))
    assert _ranked_titles(first)[0] == f"Offen {OPEN_PAGE + 4:02d}"
    assert f'href="{backlog_url(org)}/?page=2"' in first and "Seite 1 von 2" in first
    assert f"Kandidaten 1 bis {OPEN_PAGE} von {OPEN_PAGE + 5}, nach Kosten pro Jahr geordnet." in first
    second = _text(client.get(f"{backlog_url(org)}/?page=2"))
    # The 26th-ranked opens page 2, with its rank, and the cheapest closes it.
    assert _ranked_titles(second) == [f"Offen {i:02d}" for i in range(4, -1, -1)]
    assert _ranks(second) == list(range(OPEN_PAGE + 1, OPEN_PAGE + 6))
    assert f'href="{backlog_url(org)}/"' in second and 'rel="prev"' in second and 'rel="next"' not in second
    # Past the last page: the last page.
    assert _ranked_titles(_text(client.get(f"{backlog_url(org)}/?page=40"))) == _ranked_titles(second)


@pytest.mark.parametrize("path", ["/", "/picked/", "/dismissed/"])
def test_anything_but_a_page_number_is_404(client, session, login, world, path):
    org, owner, _member, _viewer = world
    login(owner)
    for bad in ("0", "-2", "zwei", "1e3", "", "9999999"):
        assert client.get(f"{backlog_url(org)}{path}?page={bad}").status_code == 404, bad
    assert client.get(f"{backlog_url(org)}{path}?page=1").status_code == 200


def test_a_short_backlog_has_no_pager(client, session, login, world):
    org, owner, member, _viewer = world
    _open(session, org, member, 3)
    login(owner)
    page = _text(client.get(f"{backlog_url(org)}/"))
    assert len(_ranked_titles(page)) == 3 and 'class="pager"' not in page and "?page=" not in page


# --- picked and dismissed: the latest on the backlog, the rest on their own lists -----------------


def test_the_backlog_shows_the_latest_decided_ones_and_links_to_all(client, session, login, world):
    org, owner, member, _viewer = world
    _decided(session, org, member, CandidateStatus.picked, LATEST + 2)
    _decided(session, org, member, CandidateStatus.dismissed, LATEST + 5)
    login(owner)
    page = _text(client.get(f"{backlog_url(org)}/"))
    listed = _listed_titles(page)
    newest_picked = [f"picked {i:02d}" for i in range(LATEST + 1, 1, -1)]
    newest_dismissed = [f"dismissed {i:02d}" for i in range(LATEST + 4, 4, -1)]
    assert listed == newest_picked + newest_dismissed
    assert f'href="{backlog_url(org)}/picked/">Alle {LATEST + 2} gewählten Kandidaten<' in page
    assert f'href="{backlog_url(org)}/dismissed/">Alle {LATEST + 5} verworfenen Kandidaten<' in page


def test_no_link_to_all_while_the_backlog_shows_them_all(client, session, login, world):
    org, owner, member, _viewer = world
    _decided(session, org, member, CandidateStatus.dismissed, 2)
    login(owner)
    page = _text(client.get(f"{backlog_url(org)}/"))
    assert _listed_titles(page) == ["dismissed 01", "dismissed 00"]
    assert f"{backlog_url(org)}/dismissed/" not in page and f"{backlog_url(org)}/picked/" not in page


@pytest.mark.parametrize("status", [CandidateStatus.picked, CandidateStatus.dismissed])
def test_a_decided_list_pages_newest_first(client, session, login, world, status):
    org, owner, member, _viewer = world
    total = LIST_PAGE + 3
    _decided(session, org, member, status, total)
    login(owner)
    url = f"{backlog_url(org)}/{status.value}/"
    first = _text(client.get(url))
    assert _listed_titles(first) == [f"{status.value} {i:02d}" for i in range(total - 1, 2, -1)]
    assert f"Kandidaten 1 bis {LIST_PAGE} von {total}, die neuesten zuerst." in first
    assert f'href="{url}?page=2"' in first and ">Ältere<" in first
    second = _text(client.get(f"{url}?page=2"))
    assert _listed_titles(second) == [f"{status.value} {i:02d}" for i in (2, 1, 0)]
    assert _listed_titles(_text(client.get(f"{url}?page=5"))) == _listed_titles(second)
    # The owner may reopen a dismissed one from its list.
    assert ("/reopen" in first) == (status == CandidateStatus.dismissed)


def test_an_empty_decided_list_says_so(client, session, login, world):
    org, owner, _member, _viewer = world
    login(owner)
    assert "Noch kein Kandidat wurde gewählt." in _text(client.get(f"{backlog_url(org)}/picked/"))
    assert "Noch kein Kandidat wurde verworfen." in _text(client.get(f"{backlog_url(org)}/dismissed/"))


def test_a_picked_list_shows_what_was_merged_into_each(client, session, login, world):
    org, owner, member, _viewer = world
    picked_with_a_merged_one(session, org, owner, member)
    login(owner)
    for url in (f"{backlog_url(org)}/", f"{backlog_url(org)}/picked/"):
        page = _text(client.get(url))
        assert "„Angebote dauern“ (Max Mitarbeiter)" in page, url


def test_a_viewer_reads_the_lists_without_the_reopen_button(client, session, login, world):
    org, _owner, member, viewer = world
    _decided(session, org, member, CandidateStatus.dismissed, 3)
    _decided(session, org, member, CandidateStatus.picked, 3)
    login(viewer)
    for path in ("/picked/", "/dismissed/"):
        response = client.get(f"{backlog_url(org)}{path}")
        assert response.status_code == 200 and len(_listed_titles(_text(response))) == 3
        assert "/reopen" not in response.text


def test_anonymous_visitors_are_sent_to_login(client, world):
    org, *_people = world
    for path in ("/?page=2", "/picked/", "/dismissed/?page=2"):
        response = client.get(f"{backlog_url(org)}{path}")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_another_organizations_lists_answer_404(client, session, make_user, make_org, login, world):
    org, _owner, member, _viewer = world
    _decided(session, org, member, CandidateStatus.dismissed, 3)
    outsider = make_user(name="Fremd")
    make_org("Eigene Firma", owner=outsider)
    login(outsider)
    for path in ("/?page=2", "/picked/", "/dismissed/", "/dismissed/?page=2"):
        response = client.get(f"{backlog_url(org)}{path}")
        assert response.status_code == 404 and "dismissed 0" not in response.text, path


def test_a_consultant_sees_no_proposer_on_the_lists(client, session, make_user, make_org, login, world):
    org, owner, member, _viewer = world
    picked_with_a_merged_one(session, org, owner, member)
    with tenancy.tenant_context(session, org.id):
        service.dismiss(session, service.propose(session, {"title": "Reporting"}, member.id), "nein", owner.id)
        session.commit()
    firm = make_org("Beratung Klug", owner=make_user(), kind=OrgKind.consultancy)
    consultant = make_user(name="Bernd Berater")
    add_member(session, firm, consultant, Role.member)
    consulting.grant(session, org, firm, AccessLevel.read, None)
    session.commit()
    login(consultant)
    for path in ("/", "/picked/", "/dismissed/"):
        response = client.get(f"{backlog_url(org)}{path}")
        page = _text(response)
        assert response.status_code == 200 and ("Angebote" in page or "Reporting" in page), path
        assert "Max Mitarbeiter" not in page and "Sabine Müller" not in page, path


# --- a fixed number of queries --------------------------------------------------------------------


def _counted(client, url, count_queries) -> int:
    client.get(url)
    refresh()
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter.count


def test_the_backlog_and_its_lists_cost_the_same_queries_for_3_and_60_candidates(
    client, session, login, make_org, world, count_queries
):
    org, owner, member, _viewer = world
    small = make_org("Klein GmbH", owner=owner)
    _mixed(session, small, owner, 3)
    _mixed(session, org, member, 60)
    login(owner)
    counts: dict[str, list[int]] = {}
    for one in (small, org):
        for path in ("/", "/?page=2", "/picked/", "/picked/?page=2", "/dismissed/"):
            counts.setdefault(path, []).append(_counted(client, f"{backlog_url(one)}{path}", count_queries))
    for path, (few, many) in counts.items():
        assert few == many, (path, counts)
    # The page shell's two; the open candidates, the page's merged ones, the latest picked and the latest
    # dismissed, each with its count.
    assert counts["/"][0] <= 6, counts
    # The page shell's two; the count, the page and its merged ones.
    assert counts["/picked/"][0] <= 5, counts
