"""The backlog's pages over HTTP: proposing in German notation, the ranked table by role, merge, dismiss,
reopen and pick, bad input (a 4xx with a message, never a 500), other tenants' ids (404), the query count."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import refresh
from sqlalchemy import func, select

from engpass import tenancy
from engpass.candidates import service
from engpass.candidates.models import Candidate, CandidateStatus
from engpass.cycles.models import Cycle, Stage
from tests.support.candidates import backlog_url, candidate_team
from tests.support.cycles import scaled_quoting_cycle


def _text(response) -> str:
    return response.get_data(as_text=True).replace("\xa0", " ")


@pytest.fixture
def world(make_user, make_org):
    return candidate_team(make_user, make_org)


def _propose(session, org, user, title, **data) -> int:
    with tenancy.tenant_context(session, org.id):
        candidate = service.propose(session, {"title": title, **data}, user.id)
        session.commit()
        return candidate.id


def _candidates(session, org) -> list[Candidate]:
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        return list(session.scalars(select(Candidate).order_by(Candidate.id)))


def test_a_member_proposes_in_german_notation_and_sees_the_ranked_backlog_without_decisions(
    client, session, login, world
):
    org, owner, member, _viewer = world
    login(member)
    refresh()
    assert client.get(f"{backlog_url(org)}/new").status_code == 200
    response = client.post(
        f"{backlog_url(org)}/new",
        data={
            "title": "Angebote dauern 9 Tage",
            "category": "quoting",
            "who_feels_it": "Vertrieb, 4 Personen",
            "hours_per_week": "12,5",
            "cost_per_week": "1.200,50",
            "effort": "medium",
            "data_available": "partly",
        },
    )
    assert response.status_code == 302
    assert client.post(f"{backlog_url(org)}/new", data={"title": "Nur ein Titel"}).status_code == 302
    (first, second) = _candidates(session, org)
    assert first.hours_per_week == Decimal("12.5") and first.cost_per_week == Decimal("1200.50")
    assert second.hours_per_week is None and second.cost_per_week is None and second.category.value == "other"
    page = _text(client.get(f"{backlog_url(org)}/"))
    assert page.index("Angebote dauern 9 Tage") < page.index("Nur ein Titel")
    # (12,5 × 65 € + 1.200,50 €) × 52 = 104.676 €
    assert "104.676 €" in page and "× 52 Arbeitswochen" in page
    assert "unbekannt" in page
    assert f"{backlog_url(org)}/{first.id}/pick" not in page and f"{backlog_url(org)}/{first.id}/merge" not in page
    assert f"{backlog_url(org)}/{first.id}/edit" in page
    assert f'href="{backlog_url(org)}/"' in page  # the main navigation


def test_the_owner_sees_the_decisions_and_a_viewer_only_reads(client, session, login, world):
    org, owner, member, viewer = world
    candidate_id = _propose(session, org, member, "Reklamationen")
    login(owner)
    page = client.get(f"{backlog_url(org)}/").text
    for action in ("pick", "merge", "dismiss", "edit"):
        assert f"{backlog_url(org)}/{candidate_id}/{action}" in page
    client.post("/logout")
    login(viewer)
    page = client.get(f"{backlog_url(org)}/").text
    assert "Reklamationen" in page and f"{backlog_url(org)}/new" not in page and "/edit" not in page
    assert client.post(f"{backlog_url(org)}/new", data={"title": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "   ", "Bitte benennen Sie den Engpass."),
        ("hours_per_week", "zwölf", "zwölf"),
        ("hours_per_week", "1.234", "1.234"),
        ("cost_per_week", "-5", "Bitte geben Sie 0 oder mehr ein."),
        ("category", "nope", "Bitte wählen Sie eine der Möglichkeiten."),
        ("effort", "huge", "Bitte wählen Sie eine der Möglichkeiten."),
        ("title", "A" * 201, "Höchstens 200 Zeichen."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_saves_nothing(client, session, login, world, field, value, message):
    org, _owner, member, _viewer = world
    login(member)
    refresh()
    data = {"title": "Angebote", field: value}
    response = client.post(f"{backlog_url(org)}/new", data=data)
    assert response.status_code == 422
    assert message in _text(response)
    assert _candidates(session, org) == []


def test_a_member_edits_only_their_own_open_candidate(client, session, login, world):
    org, owner, member, _viewer = world
    own = _propose(session, org, member, "Meins")
    others = _propose(session, org, owner, "Nicht meins")
    login(member)
    assert client.get(f"{backlog_url(org)}/{own}/edit").status_code == 200
    response = client.post(f"{backlog_url(org)}/{own}/edit", data={"title": "Meins, genauer", "hours_per_week": "3"})
    assert response.status_code == 302
    response = client.post(f"{backlog_url(org)}/{others}/edit", data={"title": "Gekapert"}, follow_redirects=True)
    assert "nur, solange er offen ist" in _text(response)
    titles = [c.title for c in _candidates(session, org)]
    assert titles == ["Meins, genauer", "Nicht meins"]


def test_merge_dismiss_and_reopen_through_the_pages(client, session, login, world):
    org, owner, member, _viewer = world
    kept = _propose(session, org, owner, "Angebote zu langsam", hours_per_week=Decimal(8))
    duplicate = _propose(session, org, member, "Angebote dauern", cost_per_week=Decimal(100))
    login(owner)
    assert client.get(f"{backlog_url(org)}/{duplicate}/merge").status_code == 200
    assert client.post(f"{backlog_url(org)}/{duplicate}/merge", data={"into": str(duplicate)}).status_code == 422
    assert client.post(f"{backlog_url(org)}/{duplicate}/merge", data={"into": "abc"}).status_code == 422
    assert client.post(f"{backlog_url(org)}/{duplicate}/merge", data={"into": str(kept)}).status_code == 302
    first, second = _candidates(session, org)
    assert first.cost_per_week == Decimal(100) and second.status == CandidateStatus.merged
    page = _text(client.get(f"{backlog_url(org)}/"))
    assert "Zusammengeführt:" in page and "„Angebote dauern“ (Max Mitarbeiter)" in page

    assert client.post(f"{backlog_url(org)}/{kept}/dismiss", data={"reason": " "}).status_code == 422
    assert client.post(f"{backlog_url(org)}/{kept}/dismiss", data={"reason": "Kein Hebel"}).status_code == 302
    assert _candidates(session, org)[0].status == CandidateStatus.dismissed
    assert "Kein Hebel" in client.get(f"{backlog_url(org)}/").text
    assert client.post(f"{backlog_url(org)}/{kept}/reopen").status_code == 302
    assert _candidates(session, org)[0].status == CandidateStatus.open
    # Reopening an open one is refused with a message, not an error.
    assert client.post(f"{backlog_url(org)}/{kept}/reopen").status_code == 302


def test_pick_asks_for_focus_then_opens_the_cycle_with_the_candidates_numbers(client, session, login, world):
    org, owner, member, _viewer = world
    first = _propose(session, org, member, "Leads gehen verloren", hours_per_week=Decimal(6))
    second = _propose(
        session,
        org,
        member,
        "Angebote dauern",
        hours_per_week=Decimal(14),
        cost_per_week=Decimal(200),
        who_feels_it="Vertrieb",
    )
    login(owner)
    refresh()
    assert client.get(f"{backlog_url(org)}/{first}/pick").status_code == 200
    response = client.post(f"{backlog_url(org)}/{first}/pick")
    assert response.status_code == 302 and "/cycles/" in response.headers["Location"]
    response = client.post(f"{backlog_url(org)}/{second}/pick")
    assert response.status_code == 422 and "zwei Engpässen" in _text(response)
    response = client.post(f"{backlog_url(org)}/{second}/pick", data={"confirm_focus": "y"})
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "Angebote dauern" in page
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        cycle = session.scalars(select(Cycle).where(Cycle.title == "Angebote dauern")).one()
        assert cycle.hours_per_week == Decimal(14) and cycle.direct_cost_per_week == Decimal(200)
        assert cycle.focus_warning and cycle.stage == Stage.bottleneck and cycle.owner_id == owner.id
        assert "Betroffen: Vertrieb" in cycle.why
    # Picked already: back to the backlog with a message.
    assert client.post(f"{backlog_url(org)}/{second}/pick").status_code == 302


def test_the_next_bottleneck_step_starts_from_the_backlog(client, session, login, world):
    org, owner, member, _viewer = world
    with tenancy.tenant_context(session, org.id):
        decided = scaled_quoting_cycle(session, owner, title="Angebote schneller")
        session.commit()
        decided_id = decided.id
    candidate = _propose(session, org, member, "Leads gehen verloren", hours_per_week=Decimal(6))
    login(owner)
    page = _text(client.get(f"/o/{org.slug}/cycles/{decided_id}/next"))
    assert "Leads gehen verloren" in page and f"{backlog_url(org)}/{candidate}/pick" in page
    assert page.index("Leads gehen verloren") < page.index('name="title"')
    assert client.post(f"{backlog_url(org)}/{candidate}/pick").status_code == 302
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        follower = session.scalars(select(Cycle).where(Cycle.title == "Leads gehen verloren")).one()
        assert follower.previous_cycle_id == decided_id and not follower.focus_warning
    client.post("/logout")
    login(member)
    page = client.get(f"/o/{org.slug}/cycles/{decided_id}/next").text
    assert "/pick" not in page


def test_another_organizations_candidates_are_404(client, session, login, world, make_user, make_org):
    org, owner, _member, _viewer = world
    stranger = make_user(name="Fremd")
    other = make_org("Andere GmbH", owner=stranger)
    foreign = _propose(session, other, stranger, "Geheim")
    login(owner)
    for action in ("edit", "merge", "dismiss", "pick"):
        assert client.get(f"{backlog_url(org)}/{foreign}/{action}").status_code == 404
        assert client.post(f"{backlog_url(org)}/{foreign}/{action}", data={"reason": "x"}).status_code == 404
    assert client.post(f"{backlog_url(org)}/{foreign}/reopen").status_code == 404
    own = _propose(session, org, owner, "Eigen")
    assert client.post(f"{backlog_url(org)}/{own}/merge", data={"into": str(foreign)}).status_code == 422
    assert "Geheim" not in client.get(f"{backlog_url(org)}/").text
    with tenancy.tenant_context(session, other.id):
        assert session.scalar(select(func.count(Candidate.id)).where(Candidate.status == "open")) == 1


def _bulk(session, org, user, count: int) -> None:
    with tenancy.tenant_context(session, org.id):
        for i in range(count):
            candidate = service.propose(
                session, {"title": f"Kandidat {i}", "hours_per_week": Decimal(i % 7) if i % 3 else None}, user.id
            )
            if i % 5 == 4:
                service.dismiss(session, candidate, "nein", user.id)
            elif i % 6 == 5:
                target = session.scalars(select(Candidate).where(Candidate.status == "open")).first()
                service.merge(session, candidate, target, user.id)
        session.commit()


def test_the_backlog_query_count_does_not_grow_with_the_candidates(client, session, login, world, count_queries):
    org, owner, member, _viewer = world
    login(owner)
    url = f"{backlog_url(org)}/"

    def count() -> int:
        client.get(url)
        refresh()
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    _bulk(session, org, member, 3)
    small = count()
    _bulk(session, org, member, 27)
    assert count() == small
    # The page shell's two; the open candidates, the page's merged ones, the latest picked and the latest
    # dismissed (tests/web/test_candidate_lists.py counts with 60 and the paged lists).
    assert small <= 6


def test_the_dashboard_shows_the_top_three_by_cost_per_year(client, session, login, world):
    org, owner, member, viewer = world
    for title, hours in (("Vierter", None), ("Erster", 20), ("Dritter", 1), ("Zweiter", 8)):
        _propose(session, org, member, title, hours_per_week=Decimal(hours) if hours else None)
    login(viewer)
    page = _text(client.get(f"/o/{org.slug}/"))
    assert page.index("Erster") < page.index("Zweiter") < page.index("Dritter")
    assert "Vierter" not in page and "4 offene Kandidaten" in page
    assert "67.600 € pro Jahr" in page  # 20 × 65 × 52
    assert f"/o/{org.slug}/candidates/new" not in page  # a viewer does not propose
