"""Indirect cost items (issue 17): what the bottleneck costs besides, item by item, with where each number
comes from; row-level security; each cycle's indirect cost per week so far becomes one item.

``cycles.indirect_cost_per_week`` stays: it is the items' sum per year divided by the working weeks, kept in
step by the application, so the downgrade only drops the items — the column already holds their weekly sum.

Revision ID: ad7ff08ccd23
Revises: 359755d48690
Create Date: 2026-12-06 17:34:25.367268+00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from engpass.tenancy import disable_row_level_security, enable_row_level_security

TENANT_TABLES = ("indirect_cost_items",)

revision: str = "ad7ff08ccd23"
down_revision: str | None = "359755d48690"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CYCLES = sa.table(
    "cycles",
    sa.column("id", sa.Integer),
    sa.column("organization_id", sa.Integer),
    sa.column("indirect_cost_per_week", sa.Numeric(14, 2)),
)
ITEMS = sa.table(
    "indirect_cost_items",
    sa.column("cycle_id", sa.Integer),
    sa.column("organization_id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("label", sa.String),
    sa.column("kind", sa.String),
    sa.column("quantity", sa.Numeric(10, 2)),
    sa.column("unit_value", sa.Numeric(14, 2)),
    sa.column("people_affected", sa.Integer),
    sa.column("period", sa.String),
    sa.column("source", sa.String),
    sa.column("source_note", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "indirect_cost_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "kind", _enum("indirect_kind", "errors", "lost_orders", "waiting", "penalties", "other"), nullable=False
        ),
        sa.Column("quantity", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("unit_value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("people_affected", sa.Integer(), nullable=True),
        sa.Column("period", _enum("cost_period", "week", "month", "year"), nullable=False),
        sa.Column("source", _enum("cost_source", "measured", "estimated", "guess"), nullable=False),
        sa.Column("source_note", sa.String(length=300), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_indirect_cost_items_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycles.id"], name=op.f("fk_indirect_cost_items_cycle_id_cycles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_indirect_cost_items_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indirect_cost_items")),
    )
    with op.batch_alter_table("indirect_cost_items", schema=None) as batch_op:
        batch_op.create_index("ix_indirect_cost_items_cycle_position", ["cycle_id", "position"], unique=False)
        batch_op.create_index(batch_op.f("ix_indirect_cost_items_organization_id"), ["organization_id"], unique=False)

    # Before the table's policies exist: the owner running this reads every cycle (owner_reads_all) and may
    # write the new table for every organization only while it has no row-level security yet.
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(CYCLES.c.id, CYCLES.c.organization_id, CYCLES.c.indirect_cost_per_week).where(
            CYCLES.c.indirect_cost_per_week.is_not(None)
        )
    ).all()
    now = datetime.now(UTC)
    if rows:
        op.bulk_insert(
            ITEMS,
            [
                {
                    "cycle_id": cycle_id,
                    "organization_id": org_id,
                    "position": 1,
                    "label": "",
                    "kind": "other",
                    "quantity": None,
                    "unit_value": weekly,
                    "people_affected": None,
                    "period": "week",
                    "source": "estimated",
                    "source_note": "",
                    "created_at": now,
                }
                for cycle_id, org_id, weekly in rows
            ],
        )
    enable_row_level_security(op, TENANT_TABLES)


def downgrade() -> None:
    disable_row_level_security(op, TENANT_TABLES)
    with op.batch_alter_table("indirect_cost_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indirect_cost_items_organization_id"))
        batch_op.drop_index("ix_indirect_cost_items_cycle_position")
    op.drop_table("indirect_cost_items")
