"""The anti-pattern radar's current findings per organization (tenant-owned), written by the workers.

Revision ID: ab2d9dab47ba
Revises: 63aff589642f
Create Date: 2026-12-06 21:00:09.174743+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engpass.tenancy import disable_row_level_security, enable_row_level_security

TENANT_TABLES = ("radar_findings",)

revision: str = "ab2d9dab47ba"
down_revision: str | None = "63aff589642f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "radar_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column(
            "pattern",
            sa.Enum(
                "tool_first",
                "isolated_pilot",
                "lone_expert",
                name="radar_pattern",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "rule",
            sa.Enum(
                "running_cost",
                "low_adoption",
                "scaled_unmeasured",
                "no_rollout",
                "target_met_undecided",
                "no_sponsor",
                "one_owner",
                "stuck_iterations",
                name="radar_rule",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_radar_findings_cycle_id_cycles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_radar_findings_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_radar_findings_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_radar_findings")),
        sa.UniqueConstraint("organization_id", "key", name=op.f("uq_radar_findings_organization_id_key")),
    )
    with op.batch_alter_table("radar_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_radar_findings_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_radar_findings_organization_id"), ["organization_id"], unique=False)

    enable_row_level_security(op, TENANT_TABLES)  # PostgreSQL only; a no-op on SQLite


def downgrade() -> None:
    disable_row_level_security(op, TENANT_TABLES)
    with op.batch_alter_table("radar_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_radar_findings_organization_id"))
        batch_op.drop_index(batch_op.f("ix_radar_findings_cycle_id"))

    op.drop_table("radar_findings")
