"""The organization dashboard at /o/<slug>/: empty, pending and full, with a fixed number of queries."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from engpass import task_names, tenancy
from engpass.demo.cycles import METALLBAU, SHOP, build_chain
from engpass.organizations.models import Role
from engpass.outbox.models import OutboxMessage
from engpass.trends import service as trends
from engpass.trends.models import TrendState


@pytest.fixture
def owner_org(make_user, make_org, login):
    owner = make_user()
    org = make_org("Dashboard GmbH", owner=owner)
    login(owner)
    return owner, org


def _fill(session, org, owner, chain, *, compute=True):
    with tenancy.tenant_context(session, org.id):
        build_chain(session, chain, date.today() - timedelta(days=3), owner.id, seed=7)
        if compute:
            trends.recompute(session)
        session.commit()


def test_empty_dashboard_invites_the_first_bottleneck(client, owner_org):
    _, org = owner_org
    page = client.get(f"/o/{org.slug}/")
    assert page.status_code == 200
    assert "Ersten Engpass benennen" in page.text
    assert f"/o/{org.slug}/cycles/new" in page.text


def test_viewer_sees_the_empty_state_without_the_button(client, make_user, make_org, login):
    viewer = make_user()
    org = make_org(owner=make_user(), members={viewer: Role.viewer})
    login(viewer)
    page = client.get(f"/o/{org.slug}/")
    assert "Ersten Engpass benennen" not in page.text


def test_full_dashboard_shows_level_reasons_charts_and_money(client, session, owner_org):
    owner, org = owner_org
    _fill(session, org, owner, METALLBAU)
    page = client.get(f"/o/{org.slug}/")
    assert page.status_code == 200
    assert "Wiederholbar" in page.text or "Erster Beweis" in page.text
    assert "Für Stufe" in page.text
    assert page.text.count("<svg") == 5
    assert "€" in page.text
    assert "<script" not in page.text


def test_cycles_without_snapshots_ask_the_workers_once_and_say_so(client, session, owner_org):
    owner, org = owner_org
    _fill(session, org, owner, SHOP, compute=False)
    for _ in range(3):
        page = client.get(f"/o/{org.slug}/")
        assert page.status_code == 200
        assert "wird gerade berechnet" in page.text
    with tenancy.tenant_context(session, org.id):
        assert session.scalars(select(TrendState)).one().computed_version == 0
    requests = session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.task_name == task_names.RECOMPUTE_TRENDS)
    )
    assert requests == 1


def test_dashboard_query_count_does_not_grow_with_history(client, session, make_user, make_org, login, count_queries):
    owner = make_user()
    small, large = make_org("Klein GmbH", owner=owner), make_org("Groß GmbH", owner=owner)
    _fill(session, small, owner, SHOP[:1])
    _fill(session, large, owner, METALLBAU + SHOP)
    login(owner)
    counts = []
    for org in (small, large):
        client.get(f"/o/{org.slug}/")  # the first visit records the organization as last used
        with count_queries() as counter:
            assert client.get(f"/o/{org.slug}/").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 6, counts
