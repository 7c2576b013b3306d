"""PostgreSQL restarted under a running app: requests while it is down fail cleanly and at once (a 5xx, the
health check 503), and afterwards the same app answers again without being restarted — the pool's pre-ping
replaces the connections the restart cut. A private cluster of the test's own is restarted, never the
shared server. See docs/reliability.md."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from uuid import uuid4

from sqlalchemy import text
from sqlalchemy.orm import Session

from engpass import create_app
from engpass.accounts.service import sign_up
from engpass.db import make_engine
from engpass.settings import Settings
from tests.support.faults import private_postgres, require_services

PASSWORD = "x" * 12
# Longest any one request may take while the database is away: a hang would fail the test, not stall it.
REQUEST_BOUND = 60


def _count(engine, query) -> int:
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def test_the_app_survives_a_postgresql_restart_without_being_restarted(tmp_path, databases):
    require_services(databases)
    with private_postgres() as server:
        owner_url, app_url = server.migrated_database()
        tag = uuid4().hex[:8]
        setup = make_engine(app_url)
        with Session(setup, expire_on_commit=False) as s:
            user, org = sign_up(s, name="Neustart", email=f"restart-{tag}@example.com", password=PASSWORD, company=tag)
            s.commit()
        setup.dispose()

        settings = Settings.from_env(
            {
                "database_url": app_url,
                "migration_database_url": owner_url,
                "instance_dir": str(tmp_path / "instance"),
                "secret_key": "fault-secret",
                "redis_url": "",
                "base_url": "http://engpass.test",
                "rate_limits_enabled": False,
            }
        )
        app = create_app(settings)
        app.config.update(WTF_CSRF_ENABLED=False)
        web = app.test_client()
        dashboard = f"/o/{org.slug}/"
        pool = ThreadPoolExecutor(max_workers=1)

        def get(path: str) -> int:
            return pool.submit(lambda: web.get(path).status_code).result(timeout=REQUEST_BOUND)

        assert web.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
        assert [get(dashboard), get("/healthz")] == [200, 200]
        form = {"title": "Angebote", "category": "quoting", "why": "", "owner_id": user.id, "sponsor_id": user.id}
        created = web.post(f"/o/{org.slug}/cycles/new", data=form)
        assert created.status_code == 302
        cycle_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[-1])

        # A request in flight: its UPDATE waits for a row the test holds locked when the server goes down.
        locker = make_engine(owner_url)
        holding = locker.connect()
        holding.begin()
        holding.execute(text("SELECT 1 FROM cycles WHERE id = :id FOR UPDATE"), {"id": cycle_id})
        edit = f"/o/{org.slug}/cycles/{cycle_id}/bottleneck"
        in_flight = pool.submit(lambda: web.post(edit, data={**form, "title": "Angebote dauern"}).status_code)
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%cycles%'"
        )
        deadline = time.monotonic() + REQUEST_BOUND
        # Asked on a connection of its own each time: pg_stat_activity stays as first read within a transaction.
        while _count(locker, waiting) == 0:
            assert not in_flight.done(), f"the edit did not wait: {in_flight.result()}"
            assert time.monotonic() < deadline, "the edit never reached its UPDATE"
            time.sleep(0.05)

        server.stop("fast")
        assert in_flight.result(timeout=REQUEST_BOUND) == 503, "the request in flight fails cleanly"
        with suppress(Exception):
            holding.close()
        locker.dispose()
        assert get("/healthz") == 503
        assert get(dashboard) == 503, "a clean error page at once, not a hang"
        assert get("/livez") == 200, "the process itself is alive: nothing restarts it"

        server.start()
        assert [get("/healthz"), get(dashboard)] == [200, 200], "back without restarting the app"
        check = make_engine(owner_url)
        with check.connect() as conn:
            title = text("SELECT title FROM cycles WHERE id = :id")
            assert conn.execute(title, {"id": cycle_id}).scalar() == "Angebote", "nothing of it was saved"
            assert (
                pool.submit(lambda: web.post(edit, data={**form, "title": "Angebote dauern"}).status_code).result(
                    timeout=REQUEST_BOUND
                )
                == 302
            )
            assert conn.execute(title, {"id": cycle_id}).scalar() == "Angebote dauern", "saved when sent again"
        check.dispose()
        pool.shutdown()
