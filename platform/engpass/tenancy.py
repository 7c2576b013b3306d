"""The tenancy layer: one organization per request or task, enforced on every ORM statement.

Isolation is enforced twice. In the application, every ORM statement that touches a
``TenantScoped`` model is filtered to the current organization, new rows are stamped
with it, and writes to another organization's rows are refused. Beneath that, on
PostgreSQL, row-level security policies compare ``organization_id`` with the
transaction-local setting ``app.org_id`` that this module sets at the start of every
transaction in an organization, so even raw SQL sees only the current organization.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, ForeignKey, event, text
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    mapped_column,
    scoped_session,
    with_loader_criteria,
)

RLS_SETTING = "app.org_id"
# The owner role reads every row (backups need it; it could switch the policies off anyway); the app
# role, which the web, workers and CLI connect as, stays bound to one organization.
OWNER_READS_ALL = "owner_reads_all"
# Ids start at 1, so 0 matches nothing; a constant keeps the cached SQL shape of the criteria.
_NO_TENANT = 0

_current_org_id: ContextVar[int | None] = ContextVar("engpass_current_org_id", default=None)


class TenantContextMissing(RuntimeError):
    """A tenant-owned table was queried or written with no organization in context."""


class CrossTenantWrite(RuntimeError):
    """A row of another organization was about to be written."""


class TenantScoped:
    """Mixin for every tenant-owned model: adds ``organization_id`` and puts it under the filter."""

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True, nullable=False
    )


class TenantSession(Session):
    """A session whose ``get`` also respects the tenant when it answers from the identity map.

    ``get`` finds already-loaded objects without running SQL, so the statement filter never
    sees it: an object loaded under one organization must not be handed out under another.
    """

    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        obj = super().get(entity, ident, **kwargs)
        if isinstance(obj, TenantScoped):
            org_id = _current_org_id.get()
            if org_id is None:
                raise TenantContextMissing(f"cannot get {type(obj).__name__} without an organization in context")
            if obj.organization_id != org_id:
                return None
        return obj


def current_org_id() -> int | None:
    return _current_org_id.get()


def require_org_id() -> int:
    org_id = _current_org_id.get()
    if org_id is None:
        raise TenantContextMissing("no organization in context")
    return org_id


def check_core_rows(table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """The flush hook's check for Core inserts, which bypass it: every row must name the organization in
    context. Core writes to tenant tables call this before executing (docs/tenancy.md)."""
    org_id = require_org_id()
    if any(row.get("organization_id") != org_id for row in rows):
        raise CrossTenantWrite(f"a row for {table} belongs to another organization")


def activate(session: Session | scoped_session[Session], org_id: int | None) -> None:
    """Switch the current organization; a transaction already open gets the new RLS setting too."""
    _current_org_id.set(org_id)
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        _apply_rls_setting(session.connection())


def clear() -> None:
    """End of a request or task: no organization any more."""
    _current_org_id.set(None)


@contextmanager
def tenant_context(session: Session | scoped_session[Session], org_id: int | None) -> Iterator[None]:
    """Work inside one organization, restoring the previous context afterwards."""
    if isinstance(session, scoped_session):
        session = session()
    token = _current_org_id.set(org_id)
    try:
        if session.in_transaction():
            _apply_rls_setting(session.connection())
        yield
    finally:
        _current_org_id.reset(token)
        if session.is_active and session.in_transaction():
            _apply_rls_setting(session.connection())


# Made once: this runs at the start of most transactions.
_SET_RLS = text("SELECT set_config(:name, :value, true)")


def _apply_rls_setting(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    org_id = _current_org_id.get()
    connection.execute(_SET_RLS, {"name": RLS_SETTING, "value": "" if org_id is None else str(org_id)})


@event.listens_for(Session, "after_begin")
def _set_rls_on_begin(_session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    # Without an organization there is nothing to set: the setting is only ever set transaction-locally, so
    # every transaction starts without one (no row visible) — and work outside any tenant, such as a digest
    # batch committing each e-mail, is spared a round trip per transaction.
    if _current_org_id.get() is not None:
        _apply_rls_setting(connection)


def _touches_tenant_model(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _filter_to_tenant(state: ORMExecuteState) -> None:
    if state.is_column_load or not (state.is_select or state.is_update or state.is_delete):
        return
    org_id = _current_org_id.get()
    if org_id is None and _touches_tenant_model(state):
        raise TenantContextMissing(
            "a tenant-owned model was queried without an organization in context; "
            "use tenancy.tenant_context() or an /o/<org_slug>/ route"
        )
    scoped_id = _NO_TENANT if org_id is None else org_id
    # Added to every statement, not only the detected ones: an entity reached through a join
    # is filtered as well.
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.organization_id == scoped_id,
            include_aliases=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _stamp_and_check_writes(session: Session, _context: Any, _instances: Any) -> None:
    org_id = _current_org_id.get()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if org_id is None:
            raise TenantContextMissing(f"cannot insert {type(obj).__name__} without an organization in context")
        if obj.organization_id is None:
            obj.organization_id = org_id
        elif obj.organization_id != org_id:
            raise CrossTenantWrite(f"{type(obj).__name__} belongs to another organization")
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantScoped) and obj.organization_id != org_id:
            raise CrossTenantWrite(f"{type(obj).__name__} belongs to another organization")


def rls_statements(table: str) -> list[str]:
    """DDL for a tenant table's row-level security; used by migrations."""
    predicate = f"organization_id = NULLIF(current_setting('{RLS_SETTING}', true), '')::integer"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING ({predicate}) WITH CHECK ({predicate})",
        owner_reads_all_statement(table),
    ]


def owner_reads_all_statement(table: str) -> str:
    """The policy that lets the role running the migrations (the owner) read every row of ``table``."""
    return f"CREATE POLICY {OWNER_READS_ALL} ON {table} FOR SELECT TO CURRENT_USER USING (true)"


def drop_rls_statements(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        f"DROP POLICY IF EXISTS {OWNER_READS_ALL} ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


def enable_row_level_security(op: Any, tables: tuple[str, ...]) -> None:
    """For migrations: put new tenant tables under row-level security (PostgreSQL only)."""
    if op.get_bind().dialect.name == "postgresql":
        for table in tables:
            for statement in rls_statements(table):
                op.execute(statement)


def disable_row_level_security(op: Any, tables: tuple[str, ...]) -> None:
    """For migrations' downgrades: the reverse of ``enable_row_level_security``."""
    if op.get_bind().dialect.name == "postgresql":
        for table in tables:
            for statement in drop_rls_statements(table):
                op.execute(statement)
