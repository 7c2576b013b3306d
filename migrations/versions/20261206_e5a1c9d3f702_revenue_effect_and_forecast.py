"""Cycles: the KPI's value per unit and period (an effect that is not hours), and the team's forecast
(issue 17).

Revision ID: e5a1c9d3f702
Revises: 9b2e6d4a1c73
Create Date: 2026-12-06 17:50:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5a1c9d3f702"
down_revision: str | None = "9b2e6d4a1c73"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # All nullable: a cycle without them has no contribution and no forecast, as before.
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kpi_value_per_unit", sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(
            sa.Column(
                "kpi_period",
                sa.Enum(
                    "week", "month", "year", name="kpi_period", native_enum=False, create_constraint=True, length=20
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("forecast_hours_per_week", sa.Numeric(precision=10, scale=2), nullable=True))
        batch_op.add_column(sa.Column("forecast_kpi", sa.Numeric(precision=18, scale=4), nullable=True))
        batch_op.add_column(sa.Column("forecast_cost_per_week", sa.Numeric(precision=14, scale=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_column("forecast_cost_per_week")
        batch_op.drop_column("forecast_kpi")
        batch_op.drop_column("forecast_hours_per_week")
        batch_op.drop_constraint(batch_op.f("ck_cycles_kpi_period"), type_="check")
        batch_op.drop_column("kpi_period")
        batch_op.drop_column("kpi_value_per_unit")
