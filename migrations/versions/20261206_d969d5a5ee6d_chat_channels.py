"""chat channels: a webhook endpoint's kind (webhook, teams, slack)

Existing endpoints stay webhooks (the server default). No new table, so no new row-level security.

Revision ID: d969d5a5ee6d
Revises: 146514e2cf2a
Create Date: 2026-12-06 22:04:15.078545+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d969d5a5ee6d"
down_revision: str | None = "146514e2cf2a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "webhook",
                    "teams",
                    "slack",
                    name="webhook_endpoint_kind",
                    native_enum=False,
                    create_constraint=True,
                    length=20,
                ),
                server_default="webhook",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        # The kind's CHECK names the column: it goes first, or SQLite's table copy still asks for the column.
        batch_op.drop_constraint(batch_op.f("ck_webhook_endpoints_webhook_endpoint_kind"), type_="check")
        batch_op.drop_column("kind")
