"""The nightly run recomputes only the organizations due, from the weeks they need; the explicit rebuild all."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engpass import task_names, tenancy
from engpass.accounts.service import sign_up
from engpass.cli import cli
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Cycle, Stage
from engpass.demo.cycles import CHAINS, build_chain
from engpass.radar.models import RadarFinding
from engpass.trends import service as trends
from engpass.trends.models import TrendSnapshot, TrendState
from tests.support.committed import delete_committed
from tests.support.workers import wait_for, worker_on_private_queue

SNAPSHOT_COLUMNS = [c.key for c in TrendSnapshot.__table__.columns if c.key not in ("id", "computed_at")]
FINDING_COLUMNS = [c.key for c in RadarFinding.__table__.columns if c.key not in ("id", "computed_at")]


def _everything(session: Session, org_id: int) -> dict[str, Any]:
    """Every figure a recompute writes for the organization: each week's snapshot, the findings, the portfolio."""
    with tenancy.tenant_context(session, org_id):
        session.expire_all()
        snapshots = session.scalars(select(TrendSnapshot).order_by(TrendSnapshot.week_start)).all()
        findings = session.scalars(select(RadarFinding).order_by(RadarFinding.key)).all()
        state = session.scalars(select(TrendState)).one()
        return {
            "snapshots": [{name: getattr(s, name) for name in SNAPSHOT_COLUMNS} for s in snapshots],
            "findings": [{name: getattr(f, name) for name in FINDING_COLUMNS} for f in findings],
            "portfolio": state.portfolio,
        }


def _computed_at(session: Session, org_id: int) -> dict[date, Any]:
    with tenancy.tenant_context(session, org_id):
        rows = session.execute(select(TrendSnapshot.week_start, TrendSnapshot.computed_at)).all()
    return dict(rows)


def _nightly(celery, monkeypatch, full: bool = False) -> list[dict[str, Any]]:
    """Runs the nightly task, then the batches it sent, in-process; returns the batches' arguments."""
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(celery, "send_task", lambda name, kwargs: sent.append((name, kwargs)))
    celery.tasks[task_names.RECOMPUTE_ALL_TRENDS].apply(kwargs={"full": full}, throw=True).get()
    batches = [kwargs for name, kwargs in sent if name == task_names.RECOMPUTE_TRENDS_BATCH]
    for kwargs in batches:
        celery.tasks[task_names.RECOMPUTE_TRENDS_BATCH].apply(kwargs=kwargs, throw=True).get()
    return batches


@pytest.fixture
def two_histories(session, make_user, make_org, celery):
    """Two organizations with Müller Metallbau's demo chain (about 48 weeks), every week computed."""
    owner = make_user()
    orgs = [make_org(f"Verlauf {i} GmbH", owner=owner) for i in range(2)]
    for seed, org in enumerate(orgs, start=1):
        with tenancy.tenant_context(session, org.id):
            build_chain(session, CHAINS["Müller Metallbau GmbH"], date.today() - timedelta(days=3), owner.id, seed=seed)
            session.commit()
    batch = celery.tasks[task_names.RECOMPUTE_TRENDS_BATCH]
    batch.apply(kwargs={"org_ids": [org.id for org in orgs], "full": True}, throw=True).get()
    return owner, orgs


def test_the_nightly_run_recomputes_the_changed_organization_as_a_full_rebuild_would(
    app, celery, session, two_histories, monkeypatch
):
    owner, (changed, quiet) = two_histories
    with tenancy.tenant_context(session, changed.id):
        cycle = session.scalars(select(Cycle).where(Cycle.stage == Stage.result)).one()
        backdated = {"measured_on": date.today() - timedelta(days=40), "kpi_value": Decimal(2)}
        cycles.add_measurement(session, cycle, backdated, owner.id)
        session.commit()
    before = {org.id: _computed_at(session, org.id) for org in (changed, quiet)}
    batches = _nightly(celery, monkeypatch)
    picked = {org_id for kwargs in batches for org_id in kwargs["org_ids"]}
    assert changed.id in picked and quiet.id not in picked
    assert all(kwargs["full"] is False for kwargs in batches)
    assert _computed_at(session, quiet.id) == before[quiet.id]
    written = {week for week, at in _computed_at(session, changed.id).items() if at != before[changed.id][week]}
    assert 5 <= len(written) < len(before[changed.id]), "the weeks from the measurement's on, not all"
    with tenancy.tenant_context(session, changed.id):
        assert trends.is_current(session)
    incremental = _everything(session, changed.id)

    batches = _nightly(celery, monkeypatch, full=True)
    assert all(kwargs["full"] is True for kwargs in batches)
    rebuilt = {org_id for kwargs in batches for org_id in kwargs["org_ids"]}
    assert {changed.id, quiet.id} <= rebuilt
    assert _everything(session, changed.id) == incremental
    for org in (changed, quiet):
        after = _computed_at(session, org.id)
        assert set(after) == set(before[org.id])
        assert all(after[week] > before[org.id][week] for week in after), "the rebuild rewrites every week"


def test_a_second_nightly_run_the_same_day_finds_nothing_to_do(app, celery, session, two_histories, monkeypatch):
    _, orgs = two_histories
    first = _nightly(celery, monkeypatch)
    assert not {org_id for kwargs in first for org_id in kwargs["org_ids"]} & {org.id for org in orgs}
    with tenancy.tenant_context(session, orgs[0].id):
        cycles.create_cycle(
            session,
            title="Neu",
            category=Category.leads,
            why="",
            owner_id=None,
            actor_id=None,
            confirm_second_open=True,
        )
        session.commit()
    picked = {org_id for kwargs in _nightly(celery, monkeypatch) for org_id in kwargs["org_ids"]}
    assert orgs[0].id in picked and orgs[1].id not in picked
    assert not {org_id for kwargs in _nightly(celery, monkeypatch) for org_id in kwargs["org_ids"]} & {
        org.id for org in orgs
    }


@pytest.mark.redis
def test_a_real_worker_runs_the_nightly_and_the_full_batch(tmp_path, databases, redis_url, live_engine):
    tag = uuid4().hex[:8]
    with Session(live_engine, expire_on_commit=False) as s:
        user, org = sign_up(s, name="Nacht", email=f"nacht-{tag}@example.com", password="x" * 12, company=tag)
        s.commit()
        with tenancy.tenant_context(s, org.id):
            build_chain(s, CHAINS["Müller Metallbau GmbH"], date.today() - timedelta(days=3), user.id, seed=1)
            s.commit()

    def state() -> tuple[Any, Any] | None:
        with Session(live_engine) as s, tenancy.tenant_context(s, org.id):
            row = s.scalars(select(TrendState)).first()
            if row is None or row.computed_version < row.version:
                return None
            return row.computed_at, s.scalar(select(func.min(TrendSnapshot.computed_at)))

    try:
        with worker_on_private_queue(tmp_path, databases, redis_url, pool="prefork") as (worker, publish):
            publish(task_names.RECOMPUTE_TRENDS_BATCH, {"org_ids": [org.id], "full": False}, f"nightly-{tag}")
            computed_at, _ = wait_for(state, "the nightly batch", worker=worker)
            publish(task_names.RECOMPUTE_TRENDS_BATCH, {"org_ids": [org.id], "full": True}, f"rebuild-{tag}")
            wait_for(lambda: (s := state()) is not None and s[1] > computed_at, "the full rebuild", worker=worker)
        with Session(live_engine) as s, tenancy.tenant_context(s, org.id):
            assert s.scalar(select(func.count(TrendSnapshot.id))) >= 40
    finally:
        delete_committed(databases, org.id, user.id)


def test_the_rebuild_command_hands_the_full_fan_out_to_the_workers(app, publisher, monkeypatch):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    result = app.test_cli_runner().invoke(cli, ["trends", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "queued" in result.output
    assert [(name, kwargs) for name, kwargs, _ in publisher.published] == [
        (task_names.RECOMPUTE_ALL_TRENDS, {"full": True})
    ]
