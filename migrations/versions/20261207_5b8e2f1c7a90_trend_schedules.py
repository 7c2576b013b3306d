"""trend schedules: the day each organization's trends next need a recompute

The nightly run reads it across organizations, so the table is global (no row-level security): it names the
organization and a day, nothing of its data. Existing organizations get no row and are due at the next run.

Revision ID: 5b8e2f1c7a90
Revises: d969d5a5ee6d
Create Date: 2026-12-07 01:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b8e2f1c7a90"
down_revision: str | None = "d969d5a5ee6d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trend_schedules",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_trend_schedules_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_trend_schedules")),
    )
    with op.batch_alter_table("trend_schedules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trend_schedules_due_on"), ["due_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trend_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trend_schedules_due_on"))
    op.drop_table("trend_schedules")
