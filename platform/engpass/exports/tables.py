"""Which tables an organization's data export holds, and how each is read.

The list is derived from the metadata, so a table added later is exported without anyone remembering:

- every tenant-owned model (``TenantScoped``) is read whole, through the tenancy layer, column by column;
- the global tables that name the organization (``memberships``, ``client_accesses``, ``access_requests``,
  the ``organizations`` row itself) have a reader of their own that names the organization in its query;
- a table that refers to ``organizations`` and is not exported is listed in ``EXCLUDED`` with the reason,
  and a column left out in ``OMITTED_COLUMNS`` with its reason.

``tests/unit/test_export_archive.py`` fails when a table refers to ``organizations`` and is neither exported nor
excluded, or when an exported column looks like a credential (``hash``, ``token``, ``secret``, ``password``)
without being omitted on purpose. At run time such a column is left out in any case.

Values are JSON: decimals as strings (exact, ``"27040.00"``), moments as ISO 8601 in UTC, days as ISO dates,
enumerations as their codes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, or_, select
from sqlalchemy.orm import Mapper, Session, aliased, scoped_session

from engpass.consulting.models import AccessRequest, ClientAccess
from engpass.db import Base
from engpass.organizations import memberships
from engpass.organizations.models import Membership, Organization
from engpass.tenancy import TenantScoped

AnySession = Session | scoped_session[Session]
Row = dict[str, Any]
BATCH = 500

# Tables that refer to an organization and stay out of its export, each with the reason.
EXCLUDED: dict[str, str] = {
    "outbox_messages": "Internal work queue of the workers: task names and ids, deleted once done; no business data.",
    "trend_schedules": "The workers' day for the next trend recompute; derived from the data, no business data.",
    "consultancy_invitation_codes": (
        "A live credential: whoever has the code grants the consultancy access. Shown to the consultancy's "
        "admins on its clients page; a copy in a file would outlive a regeneration."
    ),
    "data_exports": "The exports themselves: what was requested when is in the audit log (audit_events).",
    "measurement_uploads": (
        "Files waiting for an import for at most a day; what was imported is in measurements and audit_events."
    ),
    "sso_domains": (
        "Settings of the sign-in, not business data: shown on the single sign-on page, each change with its domain "
        "in audit_events."
    ),
}

# Columns left out of an exported table, each with the reason.
OMITTED_COLUMNS: dict[str, dict[str, str]] = {
    "invitations": {"token_hash": "The hash of an invitation link's token: a credential, not data."},
    "api_tokens": {"token_hash": "The hash of a personal access token: a credential, not data."},
    "webhook_endpoints": {
        "secret_sealed": "A webhook's signing secret, sealed: a credential, not data.",
        "previous_secret_sealed": "The signing secret before a rotation, sealed: a credential, not data.",
        "previous_secret_until": "When the previous signing secret stops signing: the credential's handling.",
    },
    "sso_configs": {"client_secret_sealed": "The identity provider's client secret, sealed: a credential, not data."},
}

SECRET_COLUMN = re.compile(r"hash|token|secret|password", re.IGNORECASE)


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        # SQLite hands back naive datetimes; they are UTC like everything stored here.
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _columns(mapper: Mapper[Any]) -> list[tuple[str, str]]:
    """(attribute, column name) of the mapper's columns that are exported."""
    table = mapper.local_table.name
    omitted = OMITTED_COLUMNS.get(table, {})
    pairs = []
    for attribute in mapper.column_attrs:
        name = attribute.columns[0].name
        if name in omitted or SECRET_COLUMN.search(name):
            continue
        pairs.append((attribute.key, name))
    return pairs


def _as_row(obj: Any, columns: list[tuple[str, str]]) -> Row:
    return {name: json_value(getattr(obj, key)) for key, name in columns}


@dataclass(frozen=True)
class Source:
    """One table of the export: its name, how many rows (for the progress), its rows in a stable order."""

    table: str
    count: Callable[[AnySession, int], int]
    rows: Callable[[AnySession, int], Iterator[Row]]


def _tenant_source(mapper: Mapper[Any]) -> Source:
    model = mapper.class_
    columns = _columns(mapper)
    order = list(mapper.primary_key)

    def count(session: AnySession, _org_id: int) -> int:
        return session.scalar(select(func.count()).select_from(model)) or 0

    def rows(session: AnySession, _org_id: int) -> Iterator[Row]:
        # The tenancy layer narrows the statement to the organization in context (and PostgreSQL's policy).
        for obj in session.scalars(select(model).order_by(*order).execution_options(yield_per=BATCH)):
            yield _as_row(obj, columns)

    return Source(mapper.local_table.name, count, rows)


def _organization() -> Source:
    columns = _columns(Organization.__mapper__)

    def rows(session: AnySession, org_id: int) -> Iterator[Row]:
        organization = session.get(Organization, org_id)
        if organization is not None:
            yield _as_row(organization, columns)

    return Source("organizations", lambda _session, _org_id: 1, rows)


def _memberships() -> Source:
    """Who belongs to the organization, with the person's name and e-mail address."""
    columns = _columns(Membership.__mapper__)

    def count(session: AnySession, org_id: int) -> int:
        return session.scalar(memberships.count_statement(org_id)) or 0

    def rows(session: AnySession, org_id: int) -> Iterator[Row]:
        stmt = memberships.with_names_statement(org_id).execution_options(yield_per=BATCH)
        for membership, name, email in session.execute(stmt):
            yield {**_as_row(membership, columns), "user_name": name, "user_email": email}

    return Source("memberships", count, rows)


def _client_accesses() -> Source:
    """Consultancies' access to the organization (a company), or its access to clients (a consultancy)."""
    columns = _columns(ClientAccess.__mapper__)
    consultancy, client = aliased(Organization), aliased(Organization)

    def where(org_id: int) -> Any:
        return or_(ClientAccess.client_id == org_id, ClientAccess.consultancy_id == org_id)

    def count(session: AnySession, org_id: int) -> int:
        return session.scalar(select(func.count(ClientAccess.id)).where(where(org_id))) or 0

    def rows(session: AnySession, org_id: int) -> Iterator[Row]:
        stmt = (
            select(ClientAccess, consultancy.name, client.name)
            .join(consultancy, consultancy.id == ClientAccess.consultancy_id)
            .join(client, client.id == ClientAccess.client_id)
            .where(where(org_id))
            .order_by(ClientAccess.id)
        )
        for access, consultancy_name, client_name in session.execute(stmt):
            yield {**_as_row(access, columns), "consultancy_name": consultancy_name, "client_name": client_name}

    return Source("client_accesses", count, rows)


def _access_requests() -> Source:
    columns = _columns(AccessRequest.__mapper__)

    def where(org_id: int) -> Any:
        return or_(AccessRequest.client_id == org_id, AccessRequest.consultancy_id == org_id)

    def count(session: AnySession, org_id: int) -> int:
        return session.scalar(select(func.count(AccessRequest.id)).where(where(org_id))) or 0

    def rows(session: AnySession, org_id: int) -> Iterator[Row]:
        for request in session.scalars(select(AccessRequest).where(where(org_id)).order_by(AccessRequest.id)):
            yield _as_row(request, columns)

    return Source("access_requests", count, rows)


def tenant_mappers() -> list[Mapper[Any]]:
    return sorted(
        (m for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)),
        key=lambda m: m.local_table.name,
    )


def sources() -> list[Source]:
    """Every exported table, in the order of the archive: the organization and its people first."""
    tenant = [_tenant_source(m) for m in tenant_mappers() if m.local_table.name not in EXCLUDED]
    return [_organization(), _memberships(), *tenant, _client_accesses(), _access_requests()]


def _refers_to_organizations(table: Table) -> bool:
    return any(fk.column.table.name == "organizations" for fk in table.foreign_keys)


def organization_tables() -> set[str]:
    """Every table that holds an organization's rows: ``organizations`` and each table that refers to it."""
    return {"organizations"} | {t.name for t in Base.metadata.sorted_tables if _refers_to_organizations(t)}
