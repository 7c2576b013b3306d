"""Data exports: an owner's ZIP of the organization's data, tenant-owned (row-level security).

Revision ID: 80cc33208c50
Revises: 156ad9d10ced
Create Date: 2026-12-02 03:43:29.362525+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engpass.tenancy import disable_row_level_security, enable_row_level_security

TENANT_TABLES = ("data_exports",)

revision: str = "80cc33208c50"
down_revision: str | None = "156ad9d10ced"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="data_export_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_data_exports_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_data_exports_requested_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.create_index("ix_data_exports_org_created", ["organization_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_exports_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_exports_requested_by_id"), ["requested_by_id"], unique=False)

    enable_row_level_security(op, TENANT_TABLES)  # PostgreSQL only; a no-op on SQLite


def downgrade() -> None:
    disable_row_level_security(op, TENANT_TABLES)
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_exports_requested_by_id"))
        batch_op.drop_index(batch_op.f("ix_data_exports_organization_id"))
        batch_op.drop_index("ix_data_exports_org_created")

    op.drop_table("data_exports")
