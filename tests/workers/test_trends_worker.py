"""A cycle change reaches the snapshots through the outbox and a real worker process on Redis."""

from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engpass import task_names, tenancy
from engpass.accounts.service import sign_up
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Cycle, Stage
from engpass.demo.cycles import CHAINS, build_chain
from engpass.outbox.models import OutboxMessage
from engpass.outbox.service import relay
from engpass.trends.models import TrendSnapshot, TrendState
from tests.support.committed import delete_committed
from tests.support.workers import wait_for, worker_on_private_queue


@pytest.mark.redis
def test_a_cycle_change_is_recomputed_by_a_real_worker(tmp_path, databases, redis_url, live_engine):
    tag = uuid4().hex[:8]
    with Session(live_engine, expire_on_commit=False) as s:
        user, org = sign_up(s, name="Trend", email=f"trend-{tag}@example.com", password="x" * 12, company=tag)
        s.commit()
        with tenancy.tenant_context(s, org.id):
            cycles.create_cycle(
                s, title="Leads", category=Category.leads, why="Hebel", owner_id=user.id, actor_id=user.id
            )
            cycles.create_cycle(
                s,
                title="Angebote",
                category=Category.quoting,
                why="Hebel",
                owner_id=user.id,
                actor_id=user.id,
                confirm_second_open=True,
            )
            s.commit()
        (message,) = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.organization_id == org.id, OutboxMessage.task_name == task_names.RECOMPUTE_TRENDS
            )
        ).all()

    def snapshot_counts():
        with Session(live_engine) as s, tenancy.tenant_context(s, org.id):
            latest = s.scalars(select(TrendSnapshot).order_by(TrendSnapshot.week_start.desc())).first()
            state = s.scalars(select(TrendState)).one()
            done = state.computed_version >= state.version
            return latest.cycles_per_stage if latest is not None and done else None

    try:
        with worker_on_private_queue(tmp_path, databases, redis_url, pool="prefork") as (worker, publish):
            with Session(live_engine) as s:
                assert relay(s, publish, ids=[message.id]).published == 1
            counts = wait_for(snapshot_counts, "the snapshot", worker=worker)
            assert counts["bottleneck"] == 2
            # Delivered again (a retry, a duplicate): the state says it is current, nothing is rewritten twice.
            publish(message.task_name, message.kwargs, f"outbox-{message.id}")
            wait_for(lambda: len(worker.successes(f"outbox-{message.id}")) >= 2, "the redelivery", worker=worker)
            assert worker.successes(f"outbox-{message.id}")[1] == "0"
            with Session(live_engine) as s, tenancy.tenant_context(s, org.id):
                assert s.scalar(select(func.count(TrendSnapshot.id))) == 1
    finally:
        delete_committed(databases, org.id, user.id)


def test_nightly_recompute_is_scheduled_and_batches_rewrite_every_organization(app, celery, session, make_org):
    assert celery.conf.beat_schedule["trends-nightly"]["task"] == task_names.RECOMPUTE_ALL_TRENDS
    orgs = [make_org(f"Nacht {i} GmbH") for i in range(3)]
    batch = celery.tasks[task_names.RECOMPUTE_TRENDS_BATCH]
    assert batch.apply(kwargs={"org_ids": [o.id for o in orgs]}, throw=True).get() == 3
    assert batch.apply(kwargs={"org_ids": [o.id for o in orgs]}, throw=True).get() == 3  # a retry is harmless
    for org in orgs:
        with tenancy.tenant_context(session, org.id):
            assert session.scalar(select(func.count(TrendSnapshot.id))) == 1


def test_recompute_task_skips_when_current_unless_forced(app, celery, session, make_org):
    org = make_org("Aktuell GmbH")
    task = celery.tasks[task_names.RECOMPUTE_TRENDS]
    assert task.apply(kwargs={"org_id": org.id}, throw=True).get() == 1
    assert task.apply(kwargs={"org_id": org.id}, throw=True).get() == 0
    assert task.apply(kwargs={"org_id": org.id, "force": True}, throw=True).get() == 1


def test_after_a_change_the_task_rewrites_the_weeks_it_affects_and_the_full_batch_all(
    app, celery, session, make_user, make_org
):
    owner = make_user()
    org = make_org("Verlauf GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        build_chain(session, CHAINS["Müller Metallbau GmbH"], date.today() - timedelta(days=3), owner.id, seed=1)
        session.commit()
    task = celery.tasks[task_names.RECOMPUTE_TRENDS]
    every_week = task.apply(kwargs={"org_id": org.id}, throw=True).get()
    assert every_week >= 40
    with tenancy.tenant_context(session, org.id):
        cycle = session.scalars(select(Cycle).where(Cycle.stage == Stage.result)).one()
        cycles.add_measurement(session, cycle, {"measured_on": date.today(), "kpi_value": Decimal(3)}, owner.id)
        session.commit()
    assert 1 <= task.apply(kwargs={"org_id": org.id}, throw=True).get() <= 2
    assert task.apply(kwargs={"org_id": org.id, "force": True}, throw=True).get() == every_week
    with tenancy.tenant_context(session, org.id):
        last_run = session.scalar(select(func.max(TrendSnapshot.computed_at)))
    batch = celery.tasks[task_names.RECOMPUTE_TRENDS_BATCH]
    batch.apply(kwargs={"org_ids": [org.id], "full": True}, throw=True).get()
    with tenancy.tenant_context(session, org.id):
        assert session.scalar(select(func.min(TrendSnapshot.computed_at))) > last_run
