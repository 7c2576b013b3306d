"""A sponsor and lessons on every cycle; rollouts and their measurements (tenant-owned).

Existing cycles get no sponsor: the anti-pattern radar names them rather than a guess filling the gap.

Revision ID: 63aff589642f
Revises: 7d4e2b9c1f08
Create Date: 2026-12-06 20:53:09.832316+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engpass.tenancy import disable_row_level_security, enable_row_level_security

TENANT_TABLES = ("rollouts", "rollout_measurements")

revision: str = "63aff589642f"
down_revision: str | None = "7d4e2b9c1f08"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column(
            "reach",
            sa.Enum(
                "people",
                "sites",
                "processes",
                name="rollout_reach",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("target_description", sa.String(length=300), nullable=False),
        sa.Column("target_count", sa.Integer(), nullable=False),
        sa.Column("one_off_cost", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("running_cost_per_month", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("target_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_rollouts_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_rollouts_cycle_id_cycles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_rollouts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollouts")),
        sa.UniqueConstraint("cycle_id", name=op.f("uq_rollouts_cycle_id")),
    )
    with op.batch_alter_table("rollouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rollouts_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "rollout_measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rollout_id", sa.Integer(), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=True),
        sa.Column("kpi_value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("hours_per_week", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("cost_per_week", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_rollout_measurements_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_rollout_measurements_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rollout_id"],
            ["rollouts.id"],
            name=op.f("fk_rollout_measurements_rollout_id_rollouts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_measurements")),
    )
    with op.batch_alter_table("rollout_measurements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rollout_measurements_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rollout_measurements_rollout_id"), ["rollout_id"], unique=False)

    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sponsor_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lessons_worked", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("lessons_failed", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("lessons_differently", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_cycles_sponsor_id"), ["sponsor_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_cycles_sponsor_id_users"), "users", ["sponsor_id"], ["id"], ondelete="SET NULL"
        )

    enable_row_level_security(op, TENANT_TABLES)  # PostgreSQL only; a no-op on SQLite


def downgrade() -> None:
    disable_row_level_security(op, TENANT_TABLES)
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cycles_sponsor_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_cycles_sponsor_id"))
        batch_op.drop_column("lessons_differently")
        batch_op.drop_column("lessons_failed")
        batch_op.drop_column("lessons_worked")
        batch_op.drop_column("sponsor_id")

    with op.batch_alter_table("rollout_measurements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rollout_measurements_rollout_id"))
        batch_op.drop_index(batch_op.f("ix_rollout_measurements_organization_id"))

    op.drop_table("rollout_measurements")
    with op.batch_alter_table("rollouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rollouts_organization_id"))

    op.drop_table("rollouts")
