"""``engpass db``: migrations and the application's database role."""

from __future__ import annotations

import time
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from engpass.backup import BackupError, backup, restore
from engpass.db import make_engine
from engpass.roles import grant_app_role
from engpass.settings import REPO_ROOT, Settings


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _settings() -> Settings:
    return current_app.extensions["engpass.settings"]


@click.group("db", help="Database migrations and roles.")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Apply migrations (as the migration/owner role)."""
    command.upgrade(alembic_config(_settings().migration_database_url), revision)


# "-1" is a revision (one step down), not an option.
@db_group.command("downgrade", context_settings={"ignore_unknown_options": True})
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` empties the database)."""
    command.downgrade(alembic_config(_settings().migration_database_url), revision)


def _migration_state(script: ScriptDirectory, head: str, current: str | None) -> str:
    """Where the database stands relative to this image's migrations, in words for the pod's log."""
    if current is None:
        return "database has no migrations yet"
    if current not in {revision.revision for revision in script.walk_revisions()}:
        # A newer release's Job migrated past this image: its pods stay unready until the rollout replaces them.
        return f"database at {current}, a revision this image does not know (newer than its {head})"
    return f"database at {current}, behind this image's {head}"


@db_group.command("wait")
@click.option("--timeout", default=600, show_default=True, help="Seconds to wait before giving up.")
@with_appcontext
def wait(timeout: int) -> None:
    """Wait until the database is at this code's migration head (for init containers and start scripts).

    Reachable is not enough: a pod of a new release must not start on the old schema, so it waits for the
    migration Job of its own release. Exits 0 at the head, 1 when TIMEOUT passes first.
    """
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    engine = make_engine(_settings().database_url)
    deadline = time.monotonic() + timeout
    reported = ""
    try:
        while True:
            try:
                with engine.connect() as connection:
                    current = MigrationContext.configure(connection).get_current_revision()
                state = _migration_state(script, head, current) if current != head else ""
            except OperationalError:
                # Only the fact: the driver's message names the host and the user, which no pod's log needs.
                state = "database unreachable"
            if not state:
                click.echo(f"database at {head}")
                return
            if time.monotonic() >= deadline:
                raise click.ClickException(f"{state}; gave up after {timeout} s, this code needs {head}")
            if state != reported:
                click.echo(f"{state}; waiting for the migration to {head}", err=True)
                reported = state
            time.sleep(2)
    finally:
        engine.dispose()


@db_group.command("check")
@with_appcontext
def check() -> None:
    """Fail when the models and the migrations disagree."""
    command.check(alembic_config(_settings().migration_database_url))


@db_group.command("create-app-role")
@click.option("--name", default="engpass_app", show_default=True)
@click.option("--password", required=True)
@with_appcontext
def create_app_role(name: str, password: str) -> None:
    """Create (or update) the login role the app connects as: not the owner, not a superuser, so RLS applies."""
    settings = _settings()
    if not settings.migration_database_url.startswith("postgresql"):
        raise click.UsageError("roles exist only on PostgreSQL")
    engine = make_engine(settings.migration_database_url)
    with engine.begin() as connection:
        grant_app_role(connection, name, password)
    engine.dispose()
    click.echo(f"role {name} ready")


@db_group.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Dump every row into FILE (pg_dump custom format), as the owner role."""
    try:
        size = backup(_settings().migration_database_url, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup {file} ({size} bytes)")


@db_group.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@with_appcontext
def restore_command(file: Path) -> None:
    """Restore FILE into the empty database of the owner role and recreate the app role."""
    settings = _settings()
    try:
        restored = restore(settings.migration_database_url, file, settings.database_url)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    role = f", role {restored.app_role} ready" if restored.app_role else ""
    click.echo(f"restored {restored.tables} tables, {restored.rows} rows{role}")
