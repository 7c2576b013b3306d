"""Redis stopped while people edit cycles: the web keeps answering and saving, the work waits in the outbox,
and once Redis is back the relay and a real worker do all of it. A private Redis of the test's own is
stopped, never the shared one. See docs/reliability.md."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from engpass import create_app, task_names, tenancy
from engpass.accounts.service import sign_up
from engpass.cycles.models import Cycle, Measurement
from engpass.db import db, make_engine
from engpass.outbox.models import OutboxMessage
from engpass.outbox.service import EXTENSION_KEY, relay
from engpass.settings import Settings
from engpass.trends.models import TrendState
from tests.support.digests import scaled_cycle_with_trends
from tests.support.faults import private_redis, require_services
from tests.support.workers import running_worker, wait_for

PASSWORD = "x" * 12


def _pending(engine, org_id: int) -> list[OutboxMessage]:
    with Session(engine) as s, tenancy.tenant_context(s, org_id):
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.relayed_at.is_(None))))


def test_redis_down_the_web_saves_and_the_work_waits_in_the_outbox(tmp_path, databases, live_engine):
    require_services(databases)
    tag = uuid4().hex[:8]
    with Session(live_engine, expire_on_commit=False) as s:
        owner, org = sign_up(s, name="Ausfall", email=f"outage-{tag}@example.com", password=PASSWORD, company=tag)
        s.commit()
        scaled_cycle_with_trends(s, org, owner)
    owner_engine = make_engine(databases["owner"])
    try:
        with owner_engine.begin() as conn:
            # The sign-up's welcome mail is not this test's business; only what the edits enqueue counts.
            conn.execute(text("DELETE FROM outbox_messages WHERE organization_id = :id"), {"id": org.id})
        with private_redis(tmp_path) as redis_server:
            settings = Settings.from_env(
                {
                    "database_url": databases["app"],
                    "migration_database_url": databases["owner"],
                    "instance_dir": str(tmp_path / "web-instance"),
                    "secret_key": "fault-secret",
                    "redis_url": redis_server.url,
                    "base_url": "http://engpass.test",
                    # As in production: the rate limits' counters live in the same Redis.
                    "rate_limits_enabled": True,
                }
            )
            app = create_app(settings)
            app.config.update(WTF_CSRF_ENABLED=False)
            web = app.test_client()
            base = f"/o/{org.slug}"
            assert web.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 302
            assert web.get(f"{base}/").status_code == 200

            redis_server.stop()
            ready = web.get("/healthz")
            assert ready.status_code == 200, "pages still work: the pod stays in the load balancer"
            assert ready.json["status"] == "degraded" and ready.json["broker"] == "unreachable"
            assert web.get("/livez").status_code == 200
            created = web.post(
                f"{base}/cycles/new",
                data={
                    "title": "Lieferscheine",
                    "category": "order_errors",
                    "why": "",
                    "owner_id": owner.id,
                    "sponsor_id": owner.id,
                },
            )
            assert created.status_code == 302, created.get_data(as_text=True)[:2000]
            cycle_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
            edited = web.post(
                f"{base}/cycles/{cycle_id}/bottleneck",
                data={
                    "title": "Lieferscheine fehlen",
                    "category": "order_errors",
                    "why": "",
                    "owner_id": owner.id,
                    "sponsor_id": owner.id,
                },
            )
            assert edited.status_code == 302
            with Session(live_engine) as s, tenancy.tenant_context(s, org.id):
                decided = s.scalars(select(Cycle).where(Cycle.id != cycle_id)).one()
            measured = web.post(
                f"{base}/cycles/{decided.id}/measurements/new",
                data={"measured_on": date.today().isoformat(), "kpi_value": "3", "note": "Ausfall"},
            )
            assert measured.status_code == 302
            assert web.get(f"{base}/").status_code == 200
            assert web.get(f"{base}/cycles/{cycle_id}/").status_code == 200
            # A second login while Redis is away: the rate limit must not turn it into an error.
            again = app.test_client()
            assert again.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 302

            with Session(live_engine) as s, tenancy.tenant_context(s, org.id):
                assert s.get(Cycle, cycle_id).title == "Lieferscheine fehlen"
                assert s.scalar(select(func.count()).select_from(Measurement).where(Measurement.note == "Ausfall")) == 1
            waiting = _pending(live_engine, org.id)
            assert [m.task_name for m in waiting] == [task_names.RECOMPUTE_TRENDS] * 3, "one per request, kept"
            assert all(m.attempts == 1 for m in waiting), "each request tried the broker once, quietly"

            redis_server.start()
            assert web.get("/healthz").json["status"] == "ok"
            with running_worker(tmp_path, databases, redis_url=redis_server.url) as worker:
                with app.app_context():
                    result = relay(db.session, app.extensions[EXTENSION_KEY])
                assert (result.published, result.failed) == (3, 0)
                assert _pending(live_engine, org.id) == []

                def recomputed() -> bool:
                    with Session(live_engine) as s, tenancy.tenant_context(s, org.id):
                        state = s.scalars(select(TrendState)).one()
                        return state.computed_version == state.version

                for message in waiting:
                    task_id = f"outbox-{message.id}"
                    wait_for(lambda t=task_id: worker.successes(t), f"{task_id} to run", worker=worker)
                    assert len(worker.successes(task_id)) == 1
                assert recomputed(), "the trends cover every edit made while Redis was away"
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM organizations WHERE id = :id"), {"id": org.id})
            conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": owner.id})
        owner_engine.dispose()
