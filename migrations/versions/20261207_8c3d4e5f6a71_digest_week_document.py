"""digest week document: the organization's part of last week's digest, stored with the trends

Written by the trends recompute beside the portfolio document; the digest reads it instead of four queries
while no change has come after it. Existing organizations get it at their next recompute (the nightly run
on Monday); until then the digest reads the week as before.

Revision ID: 8c3d4e5f6a71
Revises: 5b8e2f1c7a90
Create Date: 2026-12-07 13:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c3d4e5f6a71"
down_revision: str | None = "5b8e2f1c7a90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trend_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trend_states", schema=None) as batch_op:
        batch_op.drop_column("digest")
