"""Invitations: tenant-owned (row-level security), the link's token kept only as its sha256.

Revision ID: ca995c9b925f
Revises: 0da9e1df1fd7
Create Date: 2026-12-02 01:16:35.604524+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engpass.tenancy import disable_row_level_security, enable_row_level_security

TENANT_TABLES = ("invitations",)

revision: str = "ca995c9b925f"
down_revision: str | None = "0da9e1df1fd7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "owner",
                "admin",
                "member",
                "viewer",
                name="invitation_role",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("send_round", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_error", sa.Text(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"], ["users.id"], name=op.f("fk_invitations_accepted_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"], ["users.id"], name=op.f("fk_invitations_invited_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_invitations_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_invited_by_id"), ["invited_by_id"], unique=False)
        batch_op.create_index("ix_invitations_org_email", ["organization_id", "email"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitations_organization_id"), ["organization_id"], unique=False)

    enable_row_level_security(op, TENANT_TABLES)  # PostgreSQL only; a no-op on SQLite


def downgrade() -> None:
    disable_row_level_security(op, TENANT_TABLES)
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_organization_id"))
        batch_op.drop_index("ix_invitations_org_email")
        batch_op.drop_index(batch_op.f("ix_invitations_invited_by_id"))

    op.drop_table("invitations")
