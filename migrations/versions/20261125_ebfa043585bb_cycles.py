"""Improvement cycles: cycles, process steps, measurements, stage changes, templates; RLS on all five.

Revision ID: ebfa043585bb
Revises: ed5b3f9e1048
Create Date: 2026-11-25 17:42:48.166301+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from engpass.tenancy import disable_row_level_security, enable_row_level_security

TENANT_TABLES = ("cycles", "process_steps", "measurements", "stage_changes", "cycle_templates")

revision: str = "ebfa043585bb"
down_revision: str | None = "ed5b3f9e1048"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cycle_templates",
        sa.Column("id", sa.Integer(), nullable=False),
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
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kpi_name", sa.String(length=120), nullable=False),
        sa.Column("kpi_unit", sa.String(length=40), nullable=False),
        sa.Column(
            "kpi_direction",
            sa.Enum("higher", "lower", name="kpi_direction", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("solutions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_cycle_templates_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_templates")),
    )
    with op.batch_alter_table("cycle_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cycle_templates_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "cycles",
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
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "bottleneck",
                "baseline",
                "solution",
                "prototype",
                "result",
                "decided",
                name="cycle_stage",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("previous_cycle_id", sa.Integer(), nullable=True),
        sa.Column("focus_warning", sa.Boolean(), nullable=False),
        sa.Column("bottleneck_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("baseline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("solution_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("prototype_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hours_per_week", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("direct_cost_per_week", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("indirect_cost_per_week", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("kpi_name", sa.String(length=120), nullable=True),
        sa.Column("kpi_unit", sa.String(length=40), nullable=True),
        sa.Column(
            "kpi_direction",
            sa.Enum("higher", "lower", name="kpi_direction", native_enum=False, create_constraint=True, length=20),
            nullable=True,
        ),
        sa.Column("kpi_baseline", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("kpi_target", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("solution_what", sa.Text(), nullable=True),
        sa.Column(
            "solution_type",
            sa.Enum(
                "email_automation",
                "lead_scoring",
                "automated_report",
                "assistant",
                "other",
                name="solution_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("expected_effect", sa.Text(), nullable=True),
        sa.Column("effort_days", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("one_off_cost", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("running_cost_per_month", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("prototype_start", sa.Date(), nullable=True),
        sa.Column("prototype_target", sa.Date(), nullable=True),
        sa.Column(
            "decision",
            sa.Enum(
                "scale", "iterate", "drop", name="cycle_decision", native_enum=False, create_constraint=True, length=20
            ),
            nullable=True,
        ),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_cycles_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_cycles_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_cycles_owner_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["previous_cycle_id"], ["cycles.id"], name=op.f("fk_cycles_previous_cycle_id_cycles"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
    )
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.create_index("ix_cycles_org_stage", ["organization_id", "stage"], unique=False)
        batch_op.create_index(batch_op.f("ix_cycles_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cycles_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cycles_previous_cycle_id"), ["previous_cycle_id"], unique=False)

    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("kpi_value", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("hours_per_week", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("cost_per_week", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_measurements_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_measurements_cycle_id_cycles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_measurements_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurements")),
    )
    with op.batch_alter_table("measurements", schema=None) as batch_op:
        batch_op.create_index("ix_measurements_cycle_date", ["cycle_id", "measured_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_measurements_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "process_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=120), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_process_steps_cycle_id_cycles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_process_steps_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_steps")),
    )
    with op.batch_alter_table("process_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_process_steps_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_process_steps_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "stage_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_stage",
            sa.Enum(
                "bottleneck",
                "baseline",
                "solution",
                "prototype",
                "result",
                "decided",
                name="from_stage",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_stage",
            sa.Enum(
                "bottleneck",
                "baseline",
                "solution",
                "prototype",
                "result",
                "decided",
                name="to_stage",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("backwards", sa.Boolean(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_stage_changes_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_stage_changes_cycle_id_cycles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_stage_changes_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_changes")),
    )
    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stage_changes_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stage_changes_organization_id"), ["organization_id"], unique=False)

    enable_row_level_security(op, TENANT_TABLES)


def downgrade() -> None:
    disable_row_level_security(op, TENANT_TABLES)
    with op.batch_alter_table("stage_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_changes_organization_id"))
        batch_op.drop_index(batch_op.f("ix_stage_changes_cycle_id"))

    op.drop_table("stage_changes")
    with op.batch_alter_table("process_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_steps_organization_id"))
        batch_op.drop_index(batch_op.f("ix_process_steps_cycle_id"))

    op.drop_table("process_steps")
    with op.batch_alter_table("measurements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measurements_organization_id"))
        batch_op.drop_index("ix_measurements_cycle_date")

    op.drop_table("measurements")
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cycles_previous_cycle_id"))
        batch_op.drop_index(batch_op.f("ix_cycles_owner_id"))
        batch_op.drop_index(batch_op.f("ix_cycles_organization_id"))
        batch_op.drop_index("ix_cycles_org_stage")

    op.drop_table("cycles")
    with op.batch_alter_table("cycle_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cycle_templates_organization_id"))

    op.drop_table("cycle_templates")
