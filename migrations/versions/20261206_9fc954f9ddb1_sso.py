"""Single sign-on: an organization's OpenID provider (tenant-owned), the e-mail domains it speaks for (global,
found by an address's domain before any organization is known) and the owners' requirement.

Revision ID: 9fc954f9ddb1
Revises: ab2d9dab47ba
Create Date: 2026-12-06 21:01:15.668169+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engpass.tenancy import disable_row_level_security, enable_row_level_security

TENANT_TABLES = ("sso_configs",)

revision: str = "9fc954f9ddb1"
down_revision: str | None = "ab2d9dab47ba"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sso_configs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret_sealed", sa.Text(), nullable=False),
        sa.Column(
            "default_role",
            sa.Enum(
                "owner",
                "admin",
                "member",
                "viewer",
                name="sso_default_role",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sso_configs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_configs")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_sso_configs_organization_id")),
    )
    with op.batch_alter_table("sso_configs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_configs_organization_id"), ["organization_id"], unique=False)
    enable_row_level_security(op, TENANT_TABLES)

    op.create_table(
        "sso_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sso_domains_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_domains")),
        sa.UniqueConstraint("organization_id", "domain", name=op.f("uq_sso_domains_organization_id_domain")),
    )
    with op.batch_alter_table("sso_domains", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_domains_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(
            "uq_sso_domains_verified_domain",
            ["domain"],
            unique=True,
            sqlite_where=sa.text("verified_at IS NOT NULL"),
            postgresql_where=sa.text("verified_at IS NOT NULL"),
        )

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("require_sso", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("require_sso")

    with op.batch_alter_table("sso_domains", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_sso_domains_verified_domain",
            sqlite_where=sa.text("verified_at IS NOT NULL"),
            postgresql_where=sa.text("verified_at IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_sso_domains_organization_id"))

    op.drop_table("sso_domains")
    disable_row_level_security(op, TENANT_TABLES)
    with op.batch_alter_table("sso_configs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_configs_organization_id"))

    op.drop_table("sso_configs")
