"""batch read policy: a read-only policy on every tenant table for ``tenancy.reading``

A digest batch reads the stored week, the open cycles and the chat channels of all its organizations in one
statement each instead of one per organization. The policy admits, for SELECT only, the rows of the
organizations named in the transaction-local setting ``app.read_org_ids``; writes still need ``app.org_id``
(``tenant_isolation``). Tables created by earlier migrations get it here; later tenant tables get it from
``engpass.tenancy.rls_statements``, which older migrations also run on a fresh database — hence "where missing".

Revision ID: 4d2a7c9e1b36
Revises: 8c3d4e5f6a71
Create Date: 2026-12-07 16:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from engpass.tenancy import BATCH_READ, add_policy_where_missing, batch_read_statement, drop_policy_everywhere

revision: str = "4d2a7c9e1b36"
down_revision: str | None = "8c3d4e5f6a71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_policy_where_missing(op, BATCH_READ, batch_read_statement)


def downgrade() -> None:
    drop_policy_everywhere(op, BATCH_READ)
