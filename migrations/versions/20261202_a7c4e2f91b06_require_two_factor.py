"""Organizations: an owner's switch that requires two-factor authentication of everyone working in it.

Revision ID: a7c4e2f91b06
Revises: 5e3a9c1d7b42
Create Date: 2026-12-02 05:20:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c4e2f91b06"
down_revision: str | None = "5e3a9c1d7b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("require_two_factor", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("require_two_factor")
