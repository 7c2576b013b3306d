"""The organization dashboard at /o/<slug>/: empty, pending and full, with a fixed number of queries."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from engpass import task_names, tenancy
from engpass.cycles.models import Stage
from engpass.demo.cycles import METALLBAU, SHOP, build_chain
from engpass.i18n import today_in
from engpass.organizations.models import Role
from engpass.outbox.models import OutboxMessage
from engpass.trends import service as trends
from engpass.trends.models import TrendState
from tests.support.privacy import cycle_in


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
    misses, hits = [], []
    for org in (small, large):
        client.get(f"/o/{org.slug}/cycles/")  # records the organization as last used, outside the count
        with count_queries() as miss:
            assert client.get(f"/o/{org.slug}/").status_code == 200
        with count_queries() as hit:
            assert client.get(f"/o/{org.slug}/").status_code == 200
        misses.append(miss.count)
        hits.append(hit.count)
    # The backlog's top three are read outside the cached part: one query on either path.
    assert misses[0] == misses[1] <= 8, misses
    assert hits[0] == hits[1] <= 5, hits


def test_a_change_and_a_recompute_show_up_at_once_despite_the_cache(client, session, owner_org):
    from engpass.cycles import service as cycles
    from engpass.cycles.models import Category

    owner, org = owner_org
    _fill(session, org, owner, METALLBAU)
    first = client.get(f"/o/{org.slug}/").text
    assert "Neuer Engpass im Test" not in first and "Nichts überfällig" in first
    with tenancy.tenant_context(session, org.id):
        cycle = cycles.create_cycle(
            session,
            title="Neuer Engpass im Test",
            category=Category.other,
            why="x",
            owner_id=None,
            actor_id=owner.id,
            confirm_second_open=True,
        )
        cycle.bottleneck_at = cycle.bottleneck_at - timedelta(days=10)
        session.commit()
    changed = client.get(f"/o/{org.slug}/").text
    assert "Neuer Engpass im Test" in changed, "the attention list shows the new cycle's missing baseline"
    assert "ausgewertet" in changed, "and says the figures are catching up"
    with tenancy.tenant_context(session, org.id):
        trends.recompute(session)
        session.commit()
    assert "ausgewertet" not in client.get(f"/o/{org.slug}/").text


def _overdue_on_dashboard(page: str) -> list[str]:
    return re.findall(r'dash-attention__item--overdue_prototype">\s*<a [^>]*>([^<]+)</a>', page)


def _overdue_on_todo(page: str) -> list[str]:
    return re.findall(r'class="todo__title"[^>]*>([^<]+)</a>\s*<span class="flag flag--danger">', page)


# At every hour of the day one of these two has another date than UTC: Kiritimati (UTC+14) from 10:00 UTC on,
# Pago Pago (UTC-11) before 11:00 UTC.
@pytest.mark.parametrize("zone", ("Pacific/Kiritimati", "Pacific/Pago_Pago"))
def test_overdue_follows_the_organizations_calendar_on_the_dashboard_as_on_the_todo_page(
    client, session, owner_org, zone
):
    owner, org = owner_org
    org.timezone = zone
    session.commit()
    today = today_in(zone)
    with tenancy.tenant_context(session, org.id):
        for title, target in (("Gestern fällig", today - timedelta(days=1)), ("Heute fällig", today)):
            cycle = cycle_in(session, owner, Stage.prototype, title)
            cycle.prototype_start, cycle.prototype_target = target - timedelta(weeks=3), target
        trends.recompute(session)
        session.commit()
    dashboard = client.get(f"/o/{org.slug}/").text
    todo = client.get(f"/o/{org.slug}/todo").text
    assert _overdue_on_dashboard(dashboard) == ["Gestern fällig"]
    assert _overdue_on_todo(todo) == ["Gestern fällig"]
