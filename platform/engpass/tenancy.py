"""The tenancy layer: one organization per request or task, enforced on every ORM statement.

Isolation is enforced twice. In the application, every ORM statement that touches a
``TenantScoped`` model is filtered to the current organization, new rows are stamped
with it, and writes to another organization's rows are refused. Beneath that, on
PostgreSQL, row-level security policies compare ``organization_id`` with the
transaction-local setting ``app.org_id`` that this module sets at the start of every
transaction in an organization, so even raw SQL sees only the current organization.

Work that reads many organizations the same way (a digest batch) may instead read a named set of them at
once, never writing (``reading``): the filter and a read-only policy then admit those organizations' rows
(``app.read_org_ids``), and every row keeps its ``organization_id`` for the caller to sort them by.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
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
# The organizations a ``reading`` block may read (never write), comma-separated.
RLS_READ_SETTING = "app.read_org_ids"
TENANT_ISOLATION = "tenant_isolation"
BATCH_READ = "batch_read"
# The owner role reads every row (backups need it; it could switch the policies off anyway); the app
# role, which the web, workers and CLI connect as, stays bound to one organization.
OWNER_READS_ALL = "owner_reads_all"
# Ids start at 1, so 0 matches nothing; a constant keeps the cached SQL shape of the criteria.
_NO_TENANT = 0

_current_org_id: ContextVar[int | None] = ContextVar("engpass_current_org_id", default=None)
_read_org_ids: ContextVar[tuple[int, ...] | None] = ContextVar("engpass_read_org_ids", default=None)


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
    _read_org_ids.set(None)
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        _apply_rls_setting(session.connection())


def clear() -> None:
    """End of a request or task: no organization any more."""
    _current_org_id.set(None)
    _read_org_ids.set(None)


@contextmanager
def tenant_context(session: Session | scoped_session[Session], org_id: int | None) -> Iterator[None]:
    """Work inside one organization, restoring the previous context afterwards. Inside a ``reading`` block:
    one organization again, with nothing of the others readable."""
    with _switched(session, org_id, None):
        yield


@contextmanager
def reading(session: Session | scoped_session[Session], org_ids: Collection[int]) -> Iterator[None]:
    """Read the rows of every organization in ``org_ids`` in one statement instead of one per organization; no
    organization is current, so nothing can be written (``CrossTenantWrite``, ``TenantContextMissing``) and
    ``session.get`` of a tenant row is refused. The caller keeps each row with its ``organization_id``.
    Restores the previous context afterwards."""
    ids = tuple(sorted(set(org_ids)))
    if not ids:
        raise ValueError("reading needs at least one organization")
    with _switched(session, None, ids):
        yield


@contextmanager
def _switched(
    session: Session | scoped_session[Session], org_id: int | None, read_ids: tuple[int, ...] | None
) -> Iterator[None]:
    if isinstance(session, scoped_session):
        session = session()
    org_token = _current_org_id.set(org_id)
    read_token = _read_org_ids.set(read_ids)
    try:
        if session.in_transaction():
            _apply_rls_setting(session.connection())
        yield
    finally:
        _read_org_ids.reset(read_token)
        _current_org_id.reset(org_token)
        if session.is_active and session.in_transaction():
            _apply_rls_setting(session.connection())


# Made once: this runs at the start of most transactions. Both settings every time, so that leaving one kind
# of context inside a transaction never leaves the other's setting behind.
_SET_RLS = text(f"SELECT set_config('{RLS_SETTING}', :org, true), set_config('{RLS_READ_SETTING}', :read, true)")


def _apply_rls_setting(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    org_id, read_ids = _current_org_id.get(), _read_org_ids.get()
    connection.execute(
        _SET_RLS,
        {"org": "" if org_id is None else str(org_id), "read": ",".join(map(str, read_ids)) if read_ids else ""},
    )


@event.listens_for(Session, "after_begin")
def _set_rls_on_begin(_session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    # Without an organization there is nothing to set: the settings are only ever set transaction-locally, so
    # every transaction starts without them (no row visible) — and work outside any tenant, such as a digest
    # batch committing each e-mail, is spared a round trip per transaction.
    if _current_org_id.get() is not None or _read_org_ids.get() is not None:
        _apply_rls_setting(connection)


def _touches_tenant_model(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _filter_to_tenant(state: ORMExecuteState) -> None:
    if state.is_column_load or not (state.is_select or state.is_update or state.is_delete):
        return
    org_id = _current_org_id.get()
    read_ids = _read_org_ids.get()
    if org_id is None and read_ids is not None:
        if not state.is_select and _touches_tenant_model(state):
            raise CrossTenantWrite("tenant rows cannot be changed while reading several organizations")
        state.statement = state.statement.options(
            with_loader_criteria(
                TenantScoped,
                lambda cls: cls.organization_id.in_(read_ids),
                include_aliases=True,
            )
        )
        return
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


# A sub-select: PostgreSQL reads and casts the setting once per statement (an InitPlan), not once per row.
TENANT_PREDICATE = f"organization_id = (SELECT NULLIF(current_setting('{RLS_SETTING}', true), '')::integer)"


def rls_statements(table: str) -> list[str]:
    """DDL for a tenant table's row-level security; used by migrations."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {TENANT_ISOLATION} ON {table} USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})",
        owner_reads_all_statement(table),
        batch_read_statement(table),
    ]


def batch_read_statement(table: str) -> str:
    """The read-only policy that admits the rows of the organizations a ``reading`` block names."""
    named = f"(SELECT string_to_array(NULLIF(current_setting('{RLS_READ_SETTING}', true), ''), ','))::integer[]"
    return f"CREATE POLICY {BATCH_READ} ON {table} FOR SELECT USING (organization_id = ANY ({named}))"


def owner_reads_all_statement(table: str) -> str:
    """The policy that lets the role running the migrations (the owner) read every row of ``table``."""
    return f"CREATE POLICY {OWNER_READS_ALL} ON {table} FOR SELECT TO CURRENT_USER USING (true)"


def drop_rls_statements(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS {TENANT_ISOLATION} ON {table}",
        f"DROP POLICY IF EXISTS {OWNER_READS_ALL} ON {table}",
        f"DROP POLICY IF EXISTS {BATCH_READ} ON {table}",
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


_FORCED_TABLES = text(
    "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
    "AND c.relkind = 'r' AND c.relforcerowsecurity ORDER BY c.relname"
)
_HAS_POLICY = text(
    "SELECT 1 FROM pg_policies WHERE schemaname = current_schema() AND tablename = :t AND policyname = :p"
)


def _tenant_tables(op: Any) -> list[str]:
    """The tables under forced row-level security, for migrations; none but on PostgreSQL."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return []
    return list(bind.execute(_FORCED_TABLES).scalars().all())


def add_policy_where_missing(op: Any, policy: str, statement_of: Callable[[str], str]) -> None:
    """For migrations that add a policy to every tenant table (those under forced row-level security) that lacks
    it: on a fresh database, the older migrations already ran today's ``rls_statements``. PostgreSQL only."""
    for table in _tenant_tables(op):
        if op.get_bind().execute(_HAS_POLICY, {"t": table, "p": policy}).first() is None:
            op.execute(statement_of(table))


def drop_policy_everywhere(op: Any, policy: str) -> None:
    """The reverse of ``add_policy_where_missing``."""
    for table in _tenant_tables(op):
        op.execute(f"DROP POLICY IF EXISTS {policy} ON {table}")


def alter_policy_everywhere(op: Any, policy: str, using: str, with_check: str | None = None) -> None:
    """For migrations that rewrite a policy every tenant table has. PostgreSQL only."""
    check = f" WITH CHECK ({with_check})" if with_check is not None else ""
    for table in _tenant_tables(op):
        op.execute(f"ALTER POLICY {policy} ON {table} USING ({using}){check}")
