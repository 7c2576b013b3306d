"""Templates made from decided cycles: which cycle, and the numbers it measured.

No new table: cycle_templates is tenant-owned with row-level security already.

Revision ID: d7d8ba9fa430
Revises: 9fc954f9ddb1
Create Date: 2026-12-06 21:01:37.472301+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d7d8ba9fa430"
down_revision: str | None = "9fc954f9ddb1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cycle_templates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_cycle_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("source_title", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column(
                "source_decision",
                sa.Enum(
                    "scale",
                    "iterate",
                    "drop",
                    name="cycle_decision",
                    native_enum=False,
                    create_constraint=True,
                    length=20,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("baseline_hours_per_week", sa.Numeric(precision=10, scale=2), nullable=True))
        batch_op.add_column(sa.Column("result_hours_per_week", sa.Numeric(precision=10, scale=2), nullable=True))
        batch_op.add_column(sa.Column("kpi_baseline", sa.Numeric(precision=18, scale=4), nullable=True))
        batch_op.add_column(sa.Column("kpi_result", sa.Numeric(precision=18, scale=4), nullable=True))
        batch_op.add_column(sa.Column("kpi_change_percent", sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column("savings_per_year", sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column("lessons", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_cycle_templates_source_cycle_id"), ["source_cycle_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_cycle_templates_source_cycle_id_cycles"),
            "cycles",
            ["source_cycle_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("cycle_templates", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cycle_templates_source_cycle_id_cycles"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_cycle_templates_source_cycle_id"))
        batch_op.drop_column("lessons")
        batch_op.drop_column("savings_per_year")
        batch_op.drop_column("kpi_change_percent")
        batch_op.drop_column("kpi_result")
        batch_op.drop_column("kpi_baseline")
        batch_op.drop_column("result_hours_per_week")
        batch_op.drop_column("baseline_hours_per_week")
        # The enum's check constraint would outlive its column in SQLite's batch copy of the table.
        batch_op.drop_constraint(batch_op.f("ck_cycle_templates_cycle_decision"), type_="check")
        batch_op.drop_column("source_decision")
        batch_op.drop_column("source_title")
        batch_op.drop_column("source_cycle_id")
