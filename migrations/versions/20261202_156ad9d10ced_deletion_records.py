"""Deletion records: the one global trace of a deleted organization or account (no names, no content).

Revision ID: 156ad9d10ced
Revises: ca995c9b925f
Create Date: 2026-12-02 03:42:31.386859+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "156ad9d10ced"
down_revision: str | None = "ca995c9b925f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deletion_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "subject",
            sa.Enum(
                "organization", "account", name="deletion_subject", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_deletion_records_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_records")),
    )
    with op.batch_alter_table("deletion_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deletion_records_requested_by_id"), ["requested_by_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deletion_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deletion_records_requested_by_id"))
    op.drop_table("deletion_records")
