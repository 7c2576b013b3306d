"""policies read their settings once per statement: ``tenant_isolation`` and ``consultant_read`` as sub-selects

Both policies compared each row with ``current_setting('app.org_id')``, read and cast again for every row
(``consultant_read`` even ran its look-up of the consultancy's clients once per trend state). As an
uncorrelated sub-select PostgreSQL evaluates the setting, and the clients, once per statement (an InitPlan
or a hashed SubPlan), the way ``batch_read`` reads ``app.read_org_ids``. Which rows each policy admits is the
same.

Revision ID: 9e4b6a2d1c58
Revises: 4d2a7c9e1b36
Create Date: 2026-12-07 19:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from engpass.tenancy import RLS_SETTING, TENANT_ISOLATION, TENANT_PREDICATE, alter_policy_everywhere

revision: str = "9e4b6a2d1c58"
down_revision: str | None = "4d2a7c9e1b36"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PER_ROW_PREDICATE = f"organization_id = NULLIF(current_setting('{RLS_SETTING}', true), '')::integer"
_CONSULTANT_ONCE = (
    "organization_id IN (SELECT ca.client_id FROM client_accesses ca WHERE ca.revoked_at IS NULL "
    f"AND ca.consultancy_id = (SELECT NULLIF(current_setting('{RLS_SETTING}', true), '')::integer))"
)
_CONSULTANT_PER_ROW = (
    "EXISTS (SELECT 1 FROM client_accesses ca WHERE ca.client_id = trend_states.organization_id "
    "AND ca.revoked_at IS NULL "
    f"AND ca.consultancy_id = NULLIF(current_setting('{RLS_SETTING}', true), '')::integer)"
)


def _alter(tenant_predicate: str, consultant_predicate: str) -> None:
    alter_policy_everywhere(op, TENANT_ISOLATION, tenant_predicate, tenant_predicate)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER POLICY consultant_read ON trend_states USING ({consultant_predicate})")


def upgrade() -> None:
    _alter(TENANT_PREDICATE, _CONSULTANT_ONCE)


def downgrade() -> None:
    _alter(_PER_ROW_PREDICATE, _CONSULTANT_PER_ROW)
