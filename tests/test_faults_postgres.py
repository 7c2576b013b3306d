"""PostgreSQL restarted under a running app: requests while it is down fail cleanly and at once (a 5xx, the
health check 503), and afterwards the same app answers again without being restarted — the pool's pre-ping
replaces the connections the restart cut. A private cluster of the test's own is restarted, never the
shared server. See docs/reliability.md."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from engpass import create_app
from engpass.accounts.service import sign_up
from engpass.cli.db import alembic_config, grant_app_role
from engpass.db import make_engine
from engpass.settings import Settings
from tests.fault_support import private_postgres, require_services

PASSWORD = "x" * 12
# Longest any one request may take while the database is away: a hang would fail the test, not stall it.
REQUEST_BOUND = 60


def test_the_app_survives_a_postgresql_restart_without_being_restarted(tmp_path, databases):
    require_services(databases)
    with private_postgres() as server:
        admin = make_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE engpass"))
        admin.dispose()
        owner_url = server.url("engpass")
        command.upgrade(alembic_config(owner_url), "head")
        owner = make_engine(owner_url)
        with owner.begin() as conn:
            grant_app_role(conn, "engpass_app", "app-secret")
        owner.dispose()
        app_url = server.url("engpass", "engpass_app", "app-secret")
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

        server.stop("fast")
        assert get("/healthz") == 503
        assert get(dashboard) == 503, "a clean error page at once, not a hang"
        assert get("/livez") == 200, "the process itself is alive: nothing restarts it"

        server.start()
        assert [get("/healthz"), get(dashboard)] == [200, 200], "back without restarting the app"
        pool.shutdown()
