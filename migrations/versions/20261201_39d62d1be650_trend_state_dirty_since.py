"""Trend state: the earliest day the pending changes can affect, so a recompute rewrites only those weeks.

Revision ID: 39d62d1be650
Revises: e2d009fb284e
Create Date: 2026-12-01 22:23:57.930202+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "39d62d1be650"
down_revision: str | None = "e2d009fb284e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL on existing rows: an organization that is behind gets one full rewrite, as before.
    with op.batch_alter_table("trend_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dirty_since", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trend_states", schema=None) as batch_op:
        batch_op.drop_column("dirty_since")
