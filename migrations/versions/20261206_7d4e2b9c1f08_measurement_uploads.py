"""Measurement uploads: a file kept between its upload, the column mapping and the import (tenant-owned).

Revision ID: 7d4e2b9c1f08
Revises: ad7ff08ccd23
Create Date: 2026-12-06 18:50:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engpass.tenancy import disable_row_level_security, enable_row_level_security

TENANT_TABLES = ("measurement_uploads",)

revision: str = "7d4e2b9c1f08"
down_revision: str | None = "ad7ff08ccd23"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "measurement_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_measurement_uploads_cycle_id_cycles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_measurement_uploads_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_measurement_uploads_uploaded_by_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurement_uploads")),
    )
    with op.batch_alter_table("measurement_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_measurement_uploads_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_measurement_uploads_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_measurement_uploads_uploaded_by_id"), ["uploaded_by_id"], unique=False)

    enable_row_level_security(op, TENANT_TABLES)  # PostgreSQL only; a no-op on SQLite


def downgrade() -> None:
    disable_row_level_security(op, TENANT_TABLES)
    with op.batch_alter_table("measurement_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measurement_uploads_uploaded_by_id"))
        batch_op.drop_index(batch_op.f("ix_measurement_uploads_organization_id"))
        batch_op.drop_index(batch_op.f("ix_measurement_uploads_cycle_id"))

    op.drop_table("measurement_uploads")
