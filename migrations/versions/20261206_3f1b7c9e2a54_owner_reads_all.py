"""The owner role reads every row of the tenant tables, so `engpass db backup` (pg_dump) sees them all.

Tables created by earlier migrations get the policy here; later tenant tables get it from
``engpass.tenancy.rls_statements``, which older migrations now also run on a fresh database — hence
"where missing".

Revision ID: 3f1b7c9e2a54
Revises: c3d8b5e07f19
Create Date: 2026-12-06 05:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engpass.tenancy import OWNER_READS_ALL, owner_reads_all_statement

revision: str = "3f1b7c9e2a54"
down_revision: str | None = "c3d8b5e07f19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FORCED_TABLES = sa.text(
    "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
    "AND c.relkind = 'r' AND c.relforcerowsecurity ORDER BY c.relname"
)
HAS_POLICY = sa.text(
    "SELECT 1 FROM pg_policies WHERE schemaname = current_schema() AND tablename = :t AND policyname = :p"
)


def _forced_tables() -> list[str]:
    return list(op.get_bind().execute(FORCED_TABLES).scalars())


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _forced_tables():
        if op.get_bind().execute(HAS_POLICY, {"t": table, "p": OWNER_READS_ALL}).first() is None:
            op.execute(owner_reads_all_statement(table))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _forced_tables():
        op.execute(f"DROP POLICY IF EXISTS {OWNER_READS_ALL} ON {table}")
