"""The dashboard's data: snapshots, pending state and the attention list, without HTTP."""

from datetime import timedelta

from sqlalchemy import select

from engpass import task_names, tenancy
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, SolutionType, Stage
from engpass.demo.data import load_demo
from engpass.i18n import today_in
from engpass.organizations.models import Organization
from engpass.outbox.models import OutboxMessage
from engpass.trends import dashboard
from engpass.trends import service as trends
from tests.support.cycles import save_a_baseline

TODAY = today_in("Europe/Berlin")


def test_empty_organization_has_no_cycles_and_nothing_pending(session, make_org):
    org = make_org()
    with tenancy.tenant_context(session, org.id):
        data = dashboard.load(session, TODAY, dashboard.trend_state(session))
    assert not data.has_cycles and not data.pending and data.latest is None and data.attention == []


def test_new_cycle_is_pending_until_the_workers_recompute(session, make_user, make_org):
    owner = make_user()
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycles.create_cycle(session, title="Leads", category=Category.leads, why="", owner_id=None, actor_id=owner.id)
        session.commit()
        data = dashboard.load(session, TODAY, dashboard.trend_state(session))
        assert data.has_cycles and data.pending
        trends.recompute(session)
        session.commit()
        data = dashboard.load(session, TODAY, dashboard.trend_state(session))
        assert not data.pending and data.latest.cycles_per_stage["bottleneck"] == 1


def test_attention_list(session, make_user, make_org):
    owner = make_user()
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        old = cycles.create_cycle(
            session, title="Ohne Zahlen", category=Category.other, why="x", owner_id=None, actor_id=owner.id
        )
        old.bottleneck_at = old.bottleneck_at - timedelta(days=8)
        proto = cycles.create_cycle(
            session,
            title="Prototyp",
            category=Category.quoting,
            why="x",
            owner_id=None,
            actor_id=owner.id,
            confirm_second_open=True,
        )
        save_a_baseline(session, proto, owner.id)
        cycles.save_solution(
            session, proto, {"solution_what": "Vorlage", "solution_type": SolutionType.other}, owner.id
        )
        cycles.start_prototype(
            session,
            proto,
            {"prototype_start": TODAY - timedelta(days=40), "prototype_target": TODAY - timedelta(days=12)},
            owner.id,
        )
        session.commit()
        rules = {
            (a.rule, a.cycle_title) for a in dashboard.load(session, TODAY, dashboard.trend_state(session)).attention
        }
    # The reminder rules: a prototype still in the works is reminded of its target date, not of measuring.
    assert rules == {
        ("missing_baseline", "Ohne Zahlen"),
        ("no_owner", "Ohne Zahlen"),
        ("overdue_prototype", "Prototyp"),
        ("no_owner", "Prototyp"),
    }


def test_demo_dashboards_are_ready_without_a_worker(session):
    load_demo(session)
    org = session.scalars(select(Organization).where(Organization.name == "Müller Metallbau GmbH")).one()
    with tenancy.tenant_context(session, org.id):
        data = dashboard.load(session, TODAY, dashboard.trend_state(session))
        assert data.latest is not None and not data.pending, "the demo computes its snapshots"
        assert 40 <= len(data.snapshots) <= 52


def test_request_recompute_goes_through_the_outbox(session, make_org):
    org = make_org()
    with tenancy.tenant_context(session, org.id):
        dashboard.request_recompute(session)
        session.commit()
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.task_name == task_names.RECOMPUTE_TRENDS)).one()
    assert message.kwargs == {"org_id": org.id}


def test_no_next_bottleneck_two_weeks_after_a_decision(session, make_user, make_org):
    owner = make_user()
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        done = cycles.create_cycle(
            session, title="Erledigt", category=Category.other, why="x", owner_id=None, actor_id=owner.id
        )
        done.stage = Stage.decided
        done.decided_at = done.bottleneck_at - timedelta(days=14)
        session.commit()
        assert dashboard.load(session, TODAY, dashboard.trend_state(session)).attention == []
        done.decided_at = done.bottleneck_at - timedelta(days=15)
        session.commit()
        (item,) = dashboard.load(session, TODAY, dashboard.trend_state(session)).attention
    assert (item.rule, item.cycle_id) == ("no_next_bottleneck", done.id)


def test_a_long_prototype_is_a_hint_not_a_reminder(session, make_user, make_org):
    owner = make_user()
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle = cycles.create_cycle(
            session, title="Lange geplant", category=Category.other, why="x", owner_id=owner.id, actor_id=owner.id
        )
        save_a_baseline(session, cycle, owner.id)
        cycles.save_solution(
            session, cycle, {"solution_what": "Vorlage", "solution_type": SolutionType.other}, owner.id
        )
        # Eight weeks planned: longer than the method's four, but the target date is still ahead.
        cycles.start_prototype(
            session, cycle, {"prototype_start": TODAY, "prototype_target": TODAY + timedelta(weeks=8)}, owner.id
        )
        session.commit()
        data = dashboard.load(session, TODAY, dashboard.trend_state(session))
    assert data.attention == []
    assert data.hints == [dashboard.Hint(cycle.id, "Lange geplant")]
