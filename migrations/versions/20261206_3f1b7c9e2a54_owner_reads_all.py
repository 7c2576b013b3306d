"""The owner role reads every row of the tenant tables, so `engpass db backup` (pg_dump) sees them all.

Tables created by earlier migrations get the policy here; later tenant tables get it from
``engpass.tenancy.rls_statements``, which older migrations now also run on a fresh database — hence
"where missing".

Revision ID: 3f1b7c9e2a54
Revises: c3d8b5e07f19
Create Date: 2026-12-06 05:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from engpass.tenancy import OWNER_READS_ALL, add_policy_where_missing, drop_policy_everywhere, owner_reads_all_statement

revision: str = "3f1b7c9e2a54"
down_revision: str | None = "c3d8b5e07f19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_policy_where_missing(op, OWNER_READS_ALL, owner_reads_all_statement)


def downgrade() -> None:
    drop_policy_everywhere(op, OWNER_READS_ALL)
