"""Bottleneck candidates: the backlog people propose the next bottleneck into (tenant-owned, row-level security).

Revision ID: 359755d48690
Revises: e5a1c9d3f702
Create Date: 2026-12-06 17:34:26.171346+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engpass.tenancy import disable_row_level_security, enable_row_level_security

TENANT_TABLES = ("bottleneck_candidates",)

revision: str = "359755d48690"
down_revision: str | None = "e5a1c9d3f702"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bottleneck_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "leads",
                "quoting",
                "order_errors",
                "reporting",
                "support",
                "other",
                name="cycle_category",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("who_feels_it", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("hours_per_week", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("cost_per_week", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column(
            "effort",
            sa.Enum(
                "small",
                "medium",
                "large",
                "unknown",
                name="candidate_effort",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "data_available",
            sa.Enum(
                "yes",
                "partly",
                "no",
                "unknown",
                name="candidate_data",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "picked",
                "merged",
                "dismissed",
                name="candidate_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("dismissed_reason", sa.Text(), nullable=True),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_bottleneck_candidates_cycle_id_cycles"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["bottleneck_candidates.id"],
            name=op.f("fk_bottleneck_candidates_merged_into_id_bottleneck_candidates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bottleneck_candidates_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["users.id"],
            name=op.f("fk_bottleneck_candidates_proposed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bottleneck_candidates")),
    )
    with op.batch_alter_table("bottleneck_candidates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bottleneck_candidates_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bottleneck_candidates_merged_into_id"), ["merged_into_id"], unique=False)
        batch_op.create_index(
            "ix_bottleneck_candidates_org_status", ["organization_id", "status", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_bottleneck_candidates_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bottleneck_candidates_proposed_by_id"), ["proposed_by_id"], unique=False)

    enable_row_level_security(op, TENANT_TABLES)  # PostgreSQL only; a no-op on SQLite


def downgrade() -> None:
    disable_row_level_security(op, TENANT_TABLES)
    with op.batch_alter_table("bottleneck_candidates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bottleneck_candidates_proposed_by_id"))
        batch_op.drop_index(batch_op.f("ix_bottleneck_candidates_organization_id"))
        batch_op.drop_index("ix_bottleneck_candidates_org_status")
        batch_op.drop_index(batch_op.f("ix_bottleneck_candidates_merged_into_id"))
        batch_op.drop_index(batch_op.f("ix_bottleneck_candidates_cycle_id"))

    op.drop_table("bottleneck_candidates")
