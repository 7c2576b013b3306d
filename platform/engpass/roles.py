"""The application's database role: a login that is neither owner, superuser nor BYPASSRLS.

Created or updated by the owner, which needs CREATEROLE for it (not superuser). Running it again only
sets the password and the grants: altering the superuser attribute of an existing role needs a
superuser, so an existing role's attributes are checked instead of set. The password reaches the
server only as a SCRAM verifier, so neither the server log nor an error message can show it.
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import Connection, text


class UnsafeAppRole(click.ClickException):
    """The named role exists with rights that would let it skip row-level security."""


def _verifier(connection: Connection, name: str, password: str) -> str:
    raw: Any = connection.connection.driver_connection
    return raw.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256").decode()


def grant_app_role(connection: Connection, name: str, password: str) -> None:
    if not name.replace("_", "").isalnum():
        raise click.BadParameter("role names are letters, digits and underscores")
    existing = connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :n"), {"n": name}
    ).first()
    if existing is not None and (existing.rolsuper or existing.rolbypassrls):
        raise UnsafeAppRole(f"role {name} exists as a superuser or with BYPASSRLS; row-level security would not apply")
    quoted = connection.execute(text("SELECT quote_literal(:p)"), {"p": _verifier(connection, name, password)})
    verifier = quoted.scalar_one()
    # The driver's own execution: a verifier's ":" would read as a bind parameter in text().
    if existing is None:
        connection.exec_driver_sql(
            f"CREATE ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD {verifier}"
        )
    else:
        connection.exec_driver_sql(f"ALTER ROLE {name} LOGIN PASSWORD {verifier}")
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {name}"))
    connection.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}"))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}"))
    connection.execute(
        text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}")
    )
    connection.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {name}"))
