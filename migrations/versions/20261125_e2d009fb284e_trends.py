"""Trend snapshots and per-organization trend state, under row-level security.

Revision ID: e2d009fb284e
Revises: ebfa043585bb
Create Date: 2026-11-25 17:54:24.619074+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engpass.tenancy import disable_row_level_security, enable_row_level_security

TENANT_TABLES = ("trend_snapshots", "trend_states")

revision: str = "e2d009fb284e"
down_revision: str | None = "ebfa043585bb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trend_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("proven_cycles", sa.Integer(), nullable=False),
        sa.Column("hours_saved_per_week", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("euros_per_year", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("cycles_per_stage", sa.JSON(), nullable=False),
        sa.Column("median_lead_time_days", sa.Numeric(precision=8, scale=1), nullable=True),
        sa.Column("median_prototype_days", sa.Numeric(precision=8, scale=1), nullable=True),
        sa.Column("proven_share", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_trend_snapshots_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trend_snapshots")),
        sa.UniqueConstraint(
            "organization_id", "week_start", name=op.f("uq_trend_snapshots_organization_id_week_start")
        ),
    )
    with op.batch_alter_table("trend_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trend_snapshots_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "trend_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("computed_version", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_trend_states_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trend_states")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_trend_states_organization_id")),
    )
    with op.batch_alter_table("trend_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trend_states_organization_id"), ["organization_id"], unique=False)

    enable_row_level_security(op, TENANT_TABLES)


def downgrade() -> None:
    disable_row_level_security(op, TENANT_TABLES)
    with op.batch_alter_table("trend_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trend_states_organization_id"))

    op.drop_table("trend_states")
    with op.batch_alter_table("trend_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trend_snapshots_organization_id"))

    op.drop_table("trend_snapshots")
