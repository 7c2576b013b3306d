"""Deleting an organization with everything that belongs to it, in one transaction.

What goes (see docs/privacy.md): every row the schema ties to the organization (``privacy.schema``:
its tenant tables, memberships, consultants' accesses in both directions, access requests, invitation
codes, outbox messages, and whatever table a later room adds), plus the rows that name it only by a
key — the send log's welcome, digest and reminder keys — and the page cache's version token. The
people stay: an account belongs to the person, not to the organization.

One transaction, so no one ever sees half an organization: the organization's row is locked first
(PostgreSQL), so work that would add a row referring to it waits and then fails instead of slipping in
between the deletes. A few thousand rows take well under a second; there is no "being deleted" state
to show.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Table, delete, func, inspect, or_, select, true, union
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts import welcome
from engpass.audit.models import AuditEvent
from engpass.consulting.models import AccessRequest, ClientAccess
from engpass.cycles.models import Cycle, Measurement
from engpass.db import Base
from engpass.digest.sending import kind_for
from engpass.exports import mail as export_mail
from engpass.notifications.models import SendLog
from engpass.organizations import memberships
from engpass.organizations.models import Organization
from engpass.outbox.models import OutboxMessage
from engpass.page_cache import ORG, USER, changed
from engpass.privacy.models import DeletionRecord, Subject
from engpass.privacy.schema import owned_tables
from engpass.reminders.rules import KIND_PREFIX as REMINDER_PREFIX
from engpass.tokens import mail as token_mail

log = logging.getLogger(__name__)

# Cycle ids per LIKE statement on the send log: a reminder's period begins with its cycle id.
_CYCLES_PER_STATEMENT = 200


@dataclass(frozen=True)
class Summary:
    """What the confirmation page says will go."""

    members: int
    cycles: int
    measurements: int
    # Consultancies with access to this company, or clients of this consultancy.
    partners: int


def summary(session: Session, org_id: int) -> Summary:
    """The current organization's figures in one query."""
    active = ClientAccess.revoked_at.is_(None)
    row = session.execute(
        select(
            memberships.count_statement(org_id).scalar_subquery(),
            select(func.count(Cycle.id)).scalar_subquery(),
            select(func.count(Measurement.id)).scalar_subquery(),
            select(func.count())
            .select_from(ClientAccess)
            .where(active, or_(ClientAccess.client_id == org_id, ClientAccess.consultancy_id == org_id))
            .scalar_subquery(),
        )
    ).one()
    return Summary(*row)


def delete_organization(session: Session, org: Organization, *, actor_id: int | None) -> DeletionRecord:
    """Delete ``org`` and everything that belongs to it; returns the record that it happened.

    The caller commits (or rolls back: then nothing at all is deleted). Objects of the deleted rows are
    removed from ``session``; do not use ``org`` afterwards.
    """
    org_id = org.id
    session.flush()
    session.execute(select(Organization.id).where(Organization.id == org_id).with_for_update())
    with tenancy.tenant_context(session, org_id):
        members = memberships.user_ids(session, [org_id])
        related = _related_organizations(session, org_id)
        rows = {"send_log": _delete_send_log(session, org_id)}
        rows["outbox_messages"] = _delete_outbox_payloads(session, org_id)
        owned = owned_tables(Base.metadata)
        for entry in reversed(owned):
            rows[entry.table.name] = rows.get(entry.table.name, 0) + _delete(session, entry.table, entry.where(org_id))
        rows["organizations"] = _delete(session, Organization.__table__, Organization.id == org_id)
    _forget(session, {entry.table.name for entry in owned} | {"organizations", "send_log", "outbox_messages"})
    # Every page that showed the organization — its members' switchers, a consultancy's portfolio,
    # a client's consultants page — is keyed by one of these tokens.
    for target in [(ORG, org_id), *((ORG, other) for other in related), *((USER, user) for user in members)]:
        changed(session, target)
    record = DeletionRecord(
        subject=Subject.organization,
        subject_id=org_id,
        requested_by_id=actor_id,
        rows={table: count for table, count in sorted(rows.items()) if count},
    )
    session.add(record)
    session.flush()
    log.info("organization %s deleted at the request of user %s: %s rows", org_id, actor_id, sum(record.rows.values()))
    return record


def _delete(session: Session, table: Table, where: ColumnElement[bool]) -> int:
    """One DELETE, through the mapped class where there is one: the tenancy layer's filter then applies too
    (the current organization is the one being deleted), and on PostgreSQL row-level security beneath it."""
    mapped = next((m.class_ for m in Base.registry.mappers if m.local_table is table), None)
    statement = delete(mapped if mapped is not None else table).where(where)
    return session.execute(statement, execution_options={"synchronize_session": False}).rowcount


def _related_organizations(session: Session, org_id: int) -> set[int]:
    """Consultancies and clients on the other side of an access or a request."""
    pairs = union(
        select(ClientAccess.consultancy_id, ClientAccess.client_id).where(
            or_(ClientAccess.client_id == org_id, ClientAccess.consultancy_id == org_id)
        ),
        select(AccessRequest.consultancy_id, AccessRequest.client_id).where(
            or_(AccessRequest.client_id == org_id, AccessRequest.consultancy_id == org_id)
        ),
    )
    return {other for pair in session.execute(pairs) for other in pair if other is not None and other != org_id}


def _delete_send_log(session: Session, org_id: int) -> int:
    """The send log names an organization only inside its keys (``notifications.sendlog``): the welcome mail
    by the organization's id, its digest in the kind, a data export's or a revoked token's mail by the id that
    starts the period, a reminder by the cycle id that starts the period — of a cycle it has, or of one it
    deleted before (its audit log keeps the id). A deleted cycle's id only counts for rows written before it
    was deleted: SQLite hands a freed id to the next new cycle, maybe another organization's."""
    by_key = or_(
        (SendLog.kind == welcome.KIND) & (SendLog.period == str(org_id)),
        SendLog.kind == kind_for(org_id),
        SendLog.kind.in_((export_mail.KIND, token_mail.KIND))
        & SendLog.period.startswith(f"{org_id}:", autoescape=True),
    )
    deleted = _delete(session, SendLog.__table__, by_key)
    current = [(cycle_id, None) for cycle_id in session.scalars(select(Cycle.id))]
    gone = session.execute(
        select(AuditEvent.object_id, AuditEvent.created_at).where(
            AuditEvent.action == "cycle.deleted", AuditEvent.object_id.is_not(None)
        )
    )
    cycles: list[tuple[int, datetime | None]] = current + [(cycle_id, at) for cycle_id, at in gone]
    for start in range(0, len(cycles), _CYCLES_PER_STATEMENT):
        about_cycles = or_(
            *(
                SendLog.period.like(f"{cycle_id}:%") & (true() if until is None else SendLog.created_at <= until)
                for cycle_id, until in cycles[start : start + _CYCLES_PER_STATEMENT]
            )
        )
        deleted += _delete(session, SendLog.__table__, SendLog.kind.startswith(REMINDER_PREFIX) & about_cycles)
    return deleted


def _delete_outbox_payloads(session: Session, org_id: int) -> int:
    """Messages recorded outside the organization's context that still name it in their arguments; those
    recorded inside it carry ``organization_id`` and go with the schema's rows."""
    names_it = OutboxMessage.kwargs["org_id"].as_integer() == org_id
    return _delete(session, OutboxMessage.__table__, OutboxMessage.organization_id.is_(None) & names_it)


def _forget(session: Session, tables: set[str]) -> None:
    """The session must not hand out objects of rows that no longer exist."""
    for obj in list(session.identity_map.values()):
        # Expunging a cycle takes its steps along: an object may be gone already.
        if obj in session and inspect(obj).mapper.local_table.name in tables:
            session.expunge(obj)
