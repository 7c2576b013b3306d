"""Migrations: upgrade from empty, no drift from the models, downgrade to base — on the suite's database kind."""

import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, make_url, text

from engpass.cli.db import alembic_config
from engpass.db import Base, make_engine
from engpass.settings import normalize_database_url
from engpass.tenancy import TenantScoped


@pytest.fixture
def empty_database(databases, tmp_path):
    """A database of the suite's kind with nothing in it."""
    if databases["kind"] == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    server = make_url(normalize_database_url(os.environ["ENGPASS_TEST_DATABASE_URL"]))
    name = f"engpass_migr_{uuid4().hex[:8]}"
    admin = make_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _tables(url):
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_check_downgrade_roundtrip(empty_database):
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    assert {"organizations", "users", "memberships", "audit_events", "outbox_messages"} <= _tables(empty_database)
    # Raises when autogenerate would find a difference between the models and the migrated schema.
    command.check(config)
    command.downgrade(config, "base")
    assert _tables(empty_database) == set()
    command.upgrade(config, "head")
    command.check(config)


def test_every_tenant_model_has_forced_row_level_security(postgres):
    tenant_tables = {m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)}
    engine = make_engine(postgres["owner"])
    with engine.connect() as conn:
        flags = dict(
            conn.execute(
                text("SELECT relname, (relrowsecurity AND relforcerowsecurity) FROM pg_class WHERE relkind = 'r'")
            ).all()
        )
        policies = set(conn.execute(text("SELECT tablename FROM pg_policies")).scalars())
    engine.dispose()
    assert "audit_events" in tenant_tables
    for table in tenant_tables:
        assert flags[table] is True, f"{table}: row-level security not enabled and forced"
        assert table in policies, f"{table}: no policy"


def test_migration_files_carry_their_date():
    for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions():
        assert os.path.basename(rev.path)[:8].isdigit(), rev.path


def _engpass_call(database_url: str, tmp_path: Path, args: tuple[str, ...]) -> dict:
    env = {
        **os.environ,
        "ENGPASS_DATABASE_URL": database_url,
        "ENGPASS_INSTANCE_DIR": str(tmp_path / "instance"),
        "FLASK_RUN_FROM_CLI": "false",
    }
    return {"args": [str(Path(sys.executable).parent / "engpass"), *args], "env": env, "text": True}


def _engpass(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(**_engpass_call(database_url, tmp_path, args), capture_output=True, timeout=120)


def _start_engpass(database_url: str, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """A running `engpass` whose output is read line by line as it comes."""
    return subprocess.Popen(
        **_engpass_call(database_url, tmp_path, args), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_db_wait_holds_the_processes_until_the_migrations_ran_and_downgrade_takes_a_relative_step(
    empty_database, tmp_path
):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    early = _engpass(empty_database, tmp_path, "db", "wait", "--timeout", "0")
    assert early.returncode == 1
    assert f"database has no migrations yet; gave up after 0 s, this code needs {head}" in early.stderr

    assert _engpass(empty_database, tmp_path, "db", "upgrade").returncode == 0
    ready = _engpass(empty_database, tmp_path, "db", "wait", "--timeout", "0")
    assert ready.returncode == 0 and f"database at {head}" in ready.stdout

    stepped = _engpass(empty_database, tmp_path, "db", "downgrade", "-1")
    assert stepped.returncode == 0, stepped.stderr
    behind = _engpass(empty_database, tmp_path, "db", "wait", "--timeout", "0")
    assert behind.returncode == 1 and f"behind this image's {head}" in behind.stderr
    assert _engpass(empty_database, tmp_path, "db", "upgrade").returncode == 0


def test_db_wait_returns_once_the_migration_job_reaches_the_head(empty_database, tmp_path):
    """An init container started before the Job finishes: it keeps waiting, then lets the pod start."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    command.upgrade(alembic_config(empty_database), "head")
    command.downgrade(alembic_config(empty_database), "-1")
    waiting = _start_engpass(empty_database, tmp_path, "db", "wait", "--timeout", "300")
    try:
        assert f"behind this image's {head}; waiting for the migration to {head}" in waiting.stderr.readline()
        assert waiting.poll() is None
        assert _engpass(empty_database, tmp_path, "db", "upgrade").returncode == 0
        stdout, _stderr = waiting.communicate(timeout=120)
    finally:
        waiting.kill()
    assert waiting.returncode == 0 and f"database at {head}" in stdout


def test_db_wait_names_a_revision_from_a_newer_release(empty_database, tmp_path):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    command.upgrade(alembic_config(empty_database), "head")
    engine = make_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f0cacc1af00d'"))
    engine.dispose()
    newer = _engpass(empty_database, tmp_path, "db", "wait", "--timeout", "0")
    assert newer.returncode == 1
    assert f"database at f0cacc1af00d, a revision this image does not know (newer than its {head})" in newer.stderr


def test_db_wait_reads_the_revision_as_the_app_role(databases, tmp_path):
    """The init containers hold only the app role's URL (engpass-secrets), not the owner's."""
    ready = _engpass(databases["app"], tmp_path, "db", "wait", "--timeout", "0")
    assert ready.returncode == 0, ready.stderr


def test_db_wait_on_an_unreachable_database_says_so_without_the_password(tmp_path):
    url = "postgresql://engpass_app:s3cret-pw@127.0.0.1:1/engpass"
    unreachable = _engpass(url, tmp_path, "db", "wait", "--timeout", "0")
    assert unreachable.returncode == 1 and "database unreachable; gave up after 0 s" in unreachable.stderr
    assert "s3cret-pw" not in unreachable.stdout + unreachable.stderr
