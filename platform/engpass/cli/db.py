"""``engpass db``: migrations and the application's database role."""

from __future__ import annotations

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from engpass.db import make_engine
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


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` empties the database)."""
    command.downgrade(alembic_config(_settings().migration_database_url), revision)


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
    """Create the login role the app connects as: not the owner, not a superuser, so RLS applies."""
    settings = _settings()
    if not settings.migration_database_url.startswith("postgresql"):
        raise click.UsageError("roles exist only on PostgreSQL")
    engine = make_engine(settings.migration_database_url)
    with engine.begin() as connection:
        grant_app_role(connection, name, password)
    engine.dispose()
    click.echo(f"role {name} ready")


def grant_app_role(connection: object, name: str, password: str) -> None:
    if not name.replace("_", "").isalnum():
        raise click.BadParameter("role names are letters, digits and underscores")
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
    quoted_password = connection.execute(text("SELECT quote_literal(:p)"), {"p": password}).scalar_one()
    verb = "ALTER" if exists else "CREATE"
    connection.execute(
        text(f"{verb} ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD {quoted_password}")
    )
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {name}"))
    connection.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}"))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}"))
    connection.execute(
        text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}")
    )
    connection.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {name}"))
