"""Organizations: the working weeks per year that turn a weekly figure into a yearly one (issue 17).

Revision ID: 9b2e6d4a1c73
Revises: 3f1b7c9e2a54
Create Date: 2026-12-06 10:30:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9b2e6d4a1c73"
down_revision: str | None = "3f1b7c9e2a54"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # 52 is what every business case counted before the setting existed, so no figure changes.
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("working_weeks_per_year", sa.Integer(), server_default=sa.text("52"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("working_weeks_per_year")
