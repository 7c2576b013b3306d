"""`engpass db backup` and `engpass db restore`, run as an operator would: the console script against two
PostgreSQL clusters of their own, the owner a plain role with CREATEROLE (no superuser), the tables under
forced row-level security. The backup must hold every row, the restore must bring them all into an empty
cluster that has never seen the application role, and the demo login must work there afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import text

from engpass import create_app
from engpass.db import db
from engpass.demo.data import DEMO_PASSWORD
from engpass.settings import Settings
from tests.support.faults import PrivatePostgres, private_postgres, require_services

ENGPASS = Path(sys.executable).parent / "engpass"
OWNER_PASSWORD = "owner-secret-1"
APP_PASSWORD = "app-secret-Zq7w"
DEMO_OWNER = "owner@demo.example"


def _engpass(server: PrivatePostgres, tmp_path: Path, *args: str, app_password: str = APP_PASSWORD):
    env = {
        **os.environ,
        "ENGPASS_DATABASE_URL": server.url("engpass", "engpass_app", app_password),
        "ENGPASS_MIGRATION_DATABASE_URL": server.url("engpass", "engpass", OWNER_PASSWORD),
        "ENGPASS_INSTANCE_DIR": str(tmp_path / "instance"),
        "ENGPASS_SECRET_KEY": "backup-test-secret",
        "ENGPASS_REDIS_URL": "",
        "FLASK_RUN_FROM_CLI": "false",
    }
    return subprocess.run([str(ENGPASS), *args], env=env, capture_output=True, text=True, timeout=300)


def _as_superuser(server: PrivatePostgres, database: str, *statements: str) -> list:
    from engpass.db import make_engine

    engine = make_engine(server.url(database), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            results = [conn.execute(text(statement)) for statement in statements]
            return [result.all() if result.returns_rows else [] for result in results]
    finally:
        engine.dispose()


def _cluster_with_an_owner(stack: ExitStack) -> PrivatePostgres:
    """A fresh cluster with the owner role an operator creates: LOGIN CREATEROLE, no superuser."""
    server = stack.enter_context(private_postgres())
    _as_superuser(
        server,
        "postgres",
        f"CREATE ROLE engpass LOGIN CREATEROLE PASSWORD '{OWNER_PASSWORD}'",
        "CREATE DATABASE engpass OWNER engpass",
    )
    return server


def _row_counts(server: PrivatePostgres) -> dict[str, int]:
    (tables,) = _as_superuser(
        server, "engpass", "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    names = [row[0] for row in tables]
    counts = _as_superuser(server, "engpass", *(f'SELECT count(*) FROM "{name}"' for name in names))
    return {name: result[0][0] for name, result in zip(names, counts, strict=True)}


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def source(databases, tmp_path_factory):
    """A cluster migrated by the owner, with the app role (made twice, as every migrate run does) and the demo."""
    require_services(databases)
    tmp_path = tmp_path_factory.mktemp("source")
    with ExitStack() as stack:
        server = _cluster_with_an_owner(stack)
        _ok(_engpass(server, tmp_path, "db", "upgrade"))
        for _ in range(2):
            made = _engpass(
                server, tmp_path, "db", "create-app-role", "--name", "engpass_app", "--password", APP_PASSWORD
            )
            assert APP_PASSWORD not in _ok(made) + made.stderr
        _ok(_engpass(server, tmp_path, "demo"))
        yield server


def test_a_backup_restores_every_row_into_an_empty_cluster_and_the_login_works(source, tmp_path):
    before = _row_counts(source)
    assert before["measurements"] > 0 and before["users"] > 0 and before["audit_events"] > 0

    dump = tmp_path / "engpass.dump"
    _ok(_engpass(source, tmp_path, "db", "backup", str(dump)))
    assert dump.stat().st_size > 0
    assert not dump.with_name("engpass.dump.partial").exists()

    with ExitStack() as stack:
        target = _cluster_with_an_owner(stack)
        assert _as_superuser(target, "postgres", "SELECT 1 FROM pg_roles WHERE rolname = 'engpass_app'") == [[]]
        restored = _ok(_engpass(target, tmp_path, "db", "restore", str(dump)))
        assert f"{sum(before.values())} rows" in restored
        assert "role engpass_app ready" in restored
        assert _row_counts(target) == before
        (role,) = _as_superuser(
            target, "postgres", "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'engpass_app'"
        )
        assert role == [(False, False)]
        _log_in_as_the_demo_owner(target, tmp_path)


def _log_in_as_the_demo_owner(server: PrivatePostgres, tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "database_url": server.url("engpass", "engpass_app", APP_PASSWORD),
            "migration_database_url": server.url("engpass", "engpass", OWNER_PASSWORD),
            "instance_dir": str(tmp_path / "restored-instance"),
            "secret_key": "backup-test-secret",
            "redis_url": "",
            "rate_limits_enabled": False,
        }
    )
    app = create_app(settings)
    app.config.update(WTF_CSRF_ENABLED=False)
    web = app.test_client()
    try:
        login = web.post("/login", data={"email": DEMO_OWNER, "password": DEMO_PASSWORD})
        assert login.status_code == 302, login.status_code
        dashboard = web.get(login.location, follow_redirects=True)
        assert dashboard.status_code == 200
        assert "Müller Metallbau GmbH" in dashboard.text
    finally:
        db.remove()
        db.engine.dispose()


def test_the_plain_pg_dump_of_the_old_docs_fails_and_backup_explains_a_missing_policy(source, tmp_path):
    env = {**os.environ, "PGPASSWORD": OWNER_PASSWORD}
    plain = subprocess.run(
        ["pg_dump", "--format=custom", "--file", str(tmp_path / "plain.dump"), source.url("engpass", "engpass")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert plain.returncode != 0 and "row-level security" in plain.stderr

    _as_superuser(source, "engpass", "DROP POLICY owner_reads_all ON measurements")
    try:
        dump = tmp_path / "engpass.dump"
        refused = _engpass(source, tmp_path, "db", "backup", str(dump))
        assert refused.returncode == 1
        assert "measurements" in refused.stderr and "engpass db upgrade" in refused.stderr
        assert not dump.exists()
    finally:
        _as_superuser(
            source, "engpass", "CREATE POLICY owner_reads_all ON measurements FOR SELECT TO engpass USING (true)"
        )


def test_restore_refuses_a_database_that_is_not_empty(source, tmp_path):
    dump = tmp_path / "engpass.dump"
    _ok(_engpass(source, tmp_path, "db", "backup", str(dump)))
    refused = _engpass(source, tmp_path, "db", "restore", str(dump))
    assert refused.returncode == 1
    assert "not empty" in refused.stderr


def test_create_app_role_refuses_a_role_that_would_skip_row_level_security(source, tmp_path):
    _as_superuser(source, "postgres", "CREATE ROLE engpass_bypass LOGIN BYPASSRLS")
    refused = _engpass(
        source, tmp_path, "db", "create-app-role", "--name", "engpass_bypass", "--password", APP_PASSWORD
    )
    assert refused.returncode == 1
    assert "BYPASSRLS" in refused.stderr
    assert APP_PASSWORD not in refused.stdout + refused.stderr
