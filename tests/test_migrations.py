"""Migrations: upgrade from empty, no drift from the models, downgrade to base — on the suite's database kind."""

import os
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


def _engpass(database_url: str, tmp_path, *args: str):
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "ENGPASS_DATABASE_URL": database_url,
        "ENGPASS_INSTANCE_DIR": str(tmp_path / "instance"),
        "FLASK_RUN_FROM_CLI": "false",
    }
    command_line = [str(Path(sys.executable).parent / "engpass"), *args]
    return subprocess.run(command_line, env=env, capture_output=True, text=True, timeout=120)


def test_db_wait_holds_the_processes_until_the_migrations_ran_and_downgrade_takes_a_relative_step(
    empty_database, tmp_path
):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    early = _engpass(empty_database, tmp_path, "db", "wait", "--timeout", "0")
    assert early.returncode == 1 and f"this code needs {head}" in early.stderr

    assert _engpass(empty_database, tmp_path, "db", "upgrade").returncode == 0
    ready = _engpass(empty_database, tmp_path, "db", "wait", "--timeout", "0")
    assert ready.returncode == 0 and head in ready.stdout

    stepped = _engpass(empty_database, tmp_path, "db", "downgrade", "-1")
    assert stepped.returncode == 0, stepped.stderr
    behind = _engpass(empty_database, tmp_path, "db", "wait", "--timeout", "0")
    assert behind.returncode == 1 and "database at " in behind.stderr and head in behind.stderr
    assert _engpass(empty_database, tmp_path, "db", "upgrade").returncode == 0
