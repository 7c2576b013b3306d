"""Backing the database up and restoring it: pg_dump and pg_restore as the owner role.

Every tenant table forces row-level security, so a plain ``pg_dump`` as the owner stops with "query
would be affected by row-level security policy". The owner reads every row through its own policy
(``tenancy.OWNER_READS_ALL``) and the dump runs with row security on; before dumping we make sure that
policy is on every forced table, because without it the dump would succeed with empty tables.

A restore goes into an empty database, without the source's owners and grants (the target cluster's
roles may be named differently), gives the restoring owner its read policy again and recreates the
application role from ``ENGPASS_DATABASE_URL``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, make_url, text

from engpass.db import make_engine
from engpass.roles import grant_app_role
from engpass.tenancy import OWNER_READS_ALL, owner_reads_all_statement


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    tables: int
    rows: int
    app_role: str | None


_FORCED_TABLES = text(
    "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
    "AND c.relkind = 'r' AND c.relforcerowsecurity ORDER BY c.relname"
)
_TABLES = text(
    "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
    "AND c.relkind = 'r' ORDER BY c.relname"
)
_READABLE_BY_ME = text(
    "SELECT tablename FROM pg_policies WHERE schemaname = current_schema() AND policyname = :policy "
    "AND (roles @> ARRAY[current_user]::name[] OR roles @> ARRAY['public']::name[])"
)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL pg_dump understands (no driver suffix) and the environment carrying its password.

    The password travels in ``PGPASSWORD`` rather than on the command line, where ``ps`` shows it.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise BackupError("backup and restore work on PostgreSQL only")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(arguments: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(arguments, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{arguments[0]} failed: {result.stderr.strip() or result.stdout.strip()}")


def unreadable_tables(connection: Connection) -> list[str]:
    """Forced tables whose rows the connected role could not dump (its read policy is missing)."""
    forced = set(connection.execute(_FORCED_TABLES).scalars())
    readable = set(connection.execute(_READABLE_BY_ME, {"policy": OWNER_READS_ALL}).scalars())
    return sorted(forced - readable)


def backup(owner_url: str, target: Path) -> int:
    """Dump the whole database into ``target`` (pg_dump's custom format); returns its size in bytes.

    The file appears only when pg_dump succeeded: it is written next to ``target`` and renamed.
    """
    engine = make_engine(owner_url)
    try:
        with engine.connect() as connection:
            missing = unreadable_tables(connection)
    finally:
        engine.dispose()
    if missing:
        raise BackupError(
            "this role cannot read every row of "
            + ", ".join(missing)
            + ": run `engpass db upgrade` as the owner role, and back up as that role"
        )
    url, env = _libpq(owner_url)
    partial = target.with_name(target.name + ".partial")
    try:
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "--enable-row-security",
                f"--file={partial}",
                url,
            ],
            env,
        )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


def _count_rows(connection: Connection, tables: list[str]) -> int:
    return sum(connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one() for table in tables)


def restore(owner_url: str, source: Path, app_url: str | None) -> Restored:
    """Restore ``source`` into the empty database of ``owner_url``; recreate the app role of ``app_url``."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    engine = make_engine(owner_url)
    try:
        with engine.connect() as connection:
            if connection.execute(_TABLES).first() is not None:
                raise BackupError("the database is not empty: restore into a new, empty database")
        url, env = _libpq(owner_url)
        listing = subprocess.run(["pg_restore", "--list", str(source)], capture_output=True, text=True, check=False)
        if listing.returncode != 0:
            raise BackupError(f"not a backup made by `engpass db backup`: {listing.stderr.strip()}")
        # The source's read policies name the source's owner role; the restoring owner gets its own below.
        entries = [line for line in listing.stdout.splitlines() if not _is_owner_policy(line)]
        with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as handle:
            handle.write("\n".join(entries) + "\n")
        try:
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    f"--use-list={handle.name}",
                    f"--dbname={url}",
                    str(source),
                ],
                env,
            )
        finally:
            Path(handle.name).unlink(missing_ok=True)
        app_role = _app_role(owner_url, app_url)
        with engine.begin() as connection:
            for table in connection.execute(_FORCED_TABLES).scalars():
                connection.execute(text(owner_reads_all_statement(table)))
            if app_role is not None:
                password = make_url(app_url or "").password
                grant_app_role(connection, app_role, str(password))
            tables = list(connection.execute(_TABLES).scalars())
            rows = _count_rows(connection, tables)
    finally:
        engine.dispose()
    return Restored(tables=len(tables), rows=rows, app_role=app_role)


def _is_owner_policy(entry: str) -> bool:
    # "3344; 3256 16399 POLICY public <table> <policy> <owner>"
    fields = entry.split()
    return len(fields) >= 7 and fields[3] == "POLICY" and fields[6] == OWNER_READS_ALL


def _app_role(owner_url: str, app_url: str | None) -> str | None:
    """The app role to recreate, or None when the app connects as the owner (no separate role)."""
    if not app_url:
        return None
    app, owner = make_url(app_url), make_url(owner_url)
    if app.username in (None, owner.username):
        return None
    if app.password is None:
        raise BackupError(
            f"ENGPASS_DATABASE_URL names the role {app.username} without a password; "
            "give it the password the app connects with"
        )
    return str(app.username)
