"""Weekly trend snapshots: values, backfill, idempotency, and marking changes for the workers."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from engpass import task_names, tenancy
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Decision, KpiDirection, SolutionType
from engpass.demo.data import load_demo
from engpass.organizations.models import Organization
from engpass.outbox.models import OutboxMessage
from engpass.trends import service as trends
from engpass.trends.models import TrendSnapshot, TrendState


@pytest.fixture
def org_ctx(session, make_user, make_org):
    owner = make_user()
    org = make_org("Trend GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        yield session, owner, org


def _sabine(session, owner):
    c = cycles.create_cycle(
        session, title="Angebote", category=Category.quoting, why="Hebel", owner_id=owner.id, actor_id=owner.id
    )
    cycles.save_baseline(
        session,
        c,
        {
            "hours_per_week": Decimal(14),
            "kpi_name": "Dauer",
            "kpi_unit": "Tage",
            "kpi_direction": KpiDirection.lower,
            "kpi_baseline": Decimal(9),
            "kpi_target": Decimal(4),
        },
        None,
        owner.id,
    )
    cycles.save_solution(
        session,
        c,
        {"solution_what": "Vorlage", "solution_type": SolutionType.other, "effort_days": Decimal(6)},
        owner.id,
    )
    cycles.start_prototype(session, c, {"prototype_start": date.today() - timedelta(days=20)}, owner.id)
    cycles.add_measurement(
        session, c, {"measured_on": date.today(), "kpi_value": Decimal(4), "hours_per_week": Decimal(6)}, owner.id
    )
    cycles.decide(session, c, {"decision": Decision.scale, "decision_reason": "Wirkt"}, owner.id)
    return c


def _messages(session):
    return session.scalars(select(OutboxMessage).where(OutboxMessage.task_name == task_names.RECOMPUTE_TRENDS)).all()


def test_a_burst_of_edits_in_one_transaction_asks_the_workers_once(org_ctx):
    session, owner, org = org_ctx
    _sabine(session, owner)
    session.commit()
    (message,) = _messages(session)
    assert message.kwargs == {"org_id": org.id}
    state = session.scalars(select(TrendState)).one()
    assert state.version >= 6 and state.computed_version == 0
    assert not trends.is_current(session)


def test_each_transaction_asks_again(org_ctx):
    session, owner, _ = org_ctx
    cycles.create_cycle(session, title="A", category=Category.leads, why="", owner_id=None, actor_id=owner.id)
    session.commit()
    cycles.create_cycle(
        session, title="B", category=Category.leads, why="", owner_id=None, actor_id=owner.id, confirm_second_open=True
    )
    session.commit()
    assert len(_messages(session)) == 2


def test_recompute_writes_the_current_week_with_sabines_numbers(org_ctx):
    session, owner, org = org_ctx
    _sabine(session, owner)
    weeks = trends.recompute(session)
    session.commit()
    assert weeks >= 1
    latest = trends.latest_snapshots(session)[-1]
    assert latest.week_start == trends.week_start(date.today())
    assert latest.level == 2
    assert latest.hours_saved_per_week == Decimal("8")
    assert latest.euros_per_year == Decimal("27040.00")
    assert latest.cycles_per_stage["decided"] == 1
    assert latest.proven_share == 100
    assert latest.median_prototype_days == Decimal("20.0")
    assert trends.is_current(session)


def test_recompute_is_idempotent(org_ctx):
    session, owner, _ = org_ctx
    _sabine(session, owner)
    trends.recompute(session)
    first = [(s.week_start, s.level, s.euros_per_year, s.scores) for s in trends.latest_snapshots(session, 500)]
    trends.recompute(session)
    session.expire_all()
    second = [(s.week_start, s.level, s.euros_per_year, s.scores) for s in trends.latest_snapshots(session, 500)]
    assert first == second
    assert session.scalar(select(func.count(TrendSnapshot.id))) == len(first)


def test_backfill_gives_a_year_of_history_a_year_of_trend(session):
    load_demo(session)
    org = session.scalars(select(Organization).where(Organization.name == "Müller Metallbau GmbH")).one()
    with tenancy.tenant_context(session, org.id):
        weeks = trends.recompute(session)
        snapshots = trends.latest_snapshots(session, 500)
    assert weeks == len(snapshots) >= 40
    levels = [s.level for s in snapshots]
    assert levels[0] == 1 and levels == sorted(levels), "maturity grows along a healthy demo history"
    assert snapshots[-1].euros_per_year > snapshots[0].euros_per_year


def test_snapshots_of_another_organization_are_invisible(session, make_org, make_user):
    owner = make_user()
    a, b = make_org("A", owner=owner), make_org("B", owner=owner)
    with tenancy.tenant_context(session, a.id):
        _sabine(session, owner)
        trends.recompute(session)
        session.commit()
    with tenancy.tenant_context(session, b.id):
        assert trends.latest_snapshots(session) == []


def test_a_rolled_back_savepoint_does_not_swallow_the_next_request(org_ctx):
    session, owner, _ = org_ctx
    savepoint = session.begin_nested()
    cycles.create_cycle(session, title="A", category=Category.leads, why="", owner_id=None, actor_id=owner.id)
    savepoint.rollback()
    cycles.create_cycle(session, title="B", category=Category.leads, why="", owner_id=None, actor_id=owner.id)
    session.commit()
    assert len(_messages(session)) == 1


def test_changes_through_the_requests_scoped_session_ask_the_workers(app, session, make_user, make_org):
    from engpass.db import db

    owner = make_user()
    org = make_org(owner=owner)
    with app.app_context(), tenancy.tenant_context(db.session, org.id):
        cycles.create_cycle(
            db.session, title="Scoped", category=Category.other, why="", owner_id=None, actor_id=owner.id
        )
        db.session.commit()
    assert len(_messages(session)) == 1
