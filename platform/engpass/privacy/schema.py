"""Which rows belong to an organization, read from the SQLAlchemy metadata rather than listed by hand.

A table's row belongs to an organization when a foreign key ties it there: directly to
``organizations`` (``organization_id`` of every tenant table, a consultancy or client column, an
invitation code's key), or to a row that itself belongs (a table that only names a cycle, say). A
table added later is covered as soon as its room declares the model module (``engpass.models`` imports it)
— nothing here names a table.

Foreign keys declared ``ON DELETE SET NULL`` are the exception: they mark a link, not ownership (an
audit event in a client's log naming the consultancy a consultant came through). The database clears
those when the organization's row goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, ForeignKeyConstraint, MetaData, Table, or_, select, tuple_

ORGANIZATIONS = "organizations"

Where = Callable[[int], ColumnElement[bool]]


@dataclass(frozen=True)
class Owned:
    """A table with rows of an organization, and the condition that finds them by the organization's id."""

    table: Table
    where: Where


def _is_link(constraint: ForeignKeyConstraint) -> bool:
    return (constraint.ondelete or "").upper() == "SET NULL"


def _through(constraint: ForeignKeyConstraint, parent: Where) -> Where:
    """Rows whose key points at a row of the parent that belongs to the organization."""
    columns = list(constraint.columns)
    referred = [element.column for element in constraint.elements]

    def where(org_id: int) -> ColumnElement[bool]:
        inner = select(*referred).where(parent(org_id))
        if len(columns) == 1:
            return columns[0].in_(inner)
        return tuple_(*columns).in_(inner)

    return where


def _direct(constraint: ForeignKeyConstraint) -> Where:
    column = next(iter(constraint.columns))
    return lambda org_id: column == org_id


def _any_of(parts: list[Where]) -> Where:
    if len(parts) == 1:
        return parts[0]
    return lambda org_id: or_(*(part(org_id) for part in parts))


def owned_tables(metadata: MetaData) -> list[Owned]:
    """Every table holding rows of an organization, parents before the tables that refer to them.

    Delete in reverse order: a row goes before the rows it refers to, so no foreign key is ever violated.
    """
    organizations = metadata.tables[ORGANIZATIONS]
    found: dict[Table, Where] = {}
    # sorted_tables lists every table after the tables it refers to.
    for table in metadata.sorted_tables:
        if table is organizations:
            continue
        keys = [c for c in sorted(table.foreign_key_constraints, key=lambda c: c.name or "") if not _is_link(c)]
        direct = [_direct(c) for c in keys if c.referred_table is organizations]
        # A key to the organization says it all (a measurement's organization_id, not its cycle's); only a
        # table without one is found through the rows it refers to.
        parts = direct or [_through(c, found[c.referred_table]) for c in keys if c.referred_table in found]
        if parts:
            found[table] = _any_of(parts)
    return [Owned(table, where) for table, where in found.items()]


def links_to(metadata: MetaData, table_name: str) -> list[tuple[Table, Column[Any]]]:
    """Every (table, column) with a foreign key to ``table_name``."""
    target = metadata.tables[table_name]
    return [
        (table, column)
        for table in metadata.sorted_tables
        for constraint in table.foreign_key_constraints
        if constraint.referred_table is target
        for column in constraint.columns
    ]
