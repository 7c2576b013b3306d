"""Deleting one's own account: the person goes, the organizations' history stays without them.

Every foreign key to ``users`` says what happens (a test holds every later table to it): rows that
are the person's own go with them (``ON DELETE CASCADE``: memberships, notification preferences, the
send log, and whatever a later room ties to a user the same way), rows that are an organization's
history stay and lose the link (``ON DELETE SET NULL``: cycles they own or created, measurements they
recorded, stage changes, audit events, invitations they sent; the pages say "deleted user"). Beyond
the keys, their e-mail address is taken out of their organizations' records: the invitations they
accepted, and the audit events that name the address.

Nobody may leave an organization without an owner: while the person is its only owner, the account
stays (they transfer ownership, or delete the organization, first).
"""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.models import User
from engpass.audit.models import AuditEvent
from engpass.db import Base, utcnow
from engpass.organizations import memberships
from engpass.organizations.models import Organization
from engpass.page_cache import ORG, changed
from engpass.privacy.models import DeletionRecord, Subject
from engpass.privacy.schema import links_to
from engpass.team.models import Invitation
from engpass.tenancy import TenantScoped
from engpass.trends.service import mark_changed

log = logging.getLogger(__name__)


class SoleOwner(Exception):
    """The account cannot go: it is the only owner of these organizations."""

    def __init__(self, organizations: list[Organization]) -> None:
        super().__init__(", ".join(org.slug for org in organizations))
        self.organizations = organizations


def delete_account(session: Session, user: User) -> DeletionRecord:
    """Delete ``user``; raises ``SoleOwner`` (and changes nothing) while an organization depends on them.

    The caller commits, then ends the session's login.
    """
    # Two owners of one organization deleting their accounts at once cannot both go, as in team.service.
    memberships.lock_owners_of_orgs_owned_by(session, user.id)
    blocking = memberships.sole_owned(session, user.id)
    if blocking:
        raise SoleOwner(blocking)
    user_id = user.id
    org_ids = memberships.organization_ids(session, user_id)
    rows = _cascading_rows(session, user_id, org_ids)
    for org_id in org_ids:
        with tenancy.tenant_context(session, org_id):
            rows.update(_forget_address(session, user))
            # The cycles they own or sponsor lose them (the keys' SET NULL, around the services): the radar's
            # sponsor and owner rules must hear of it, and the nightly run recomputes only what it is told.
            mark_changed(session, utcnow().date())
    # Cycles they were responsible for now show nobody: the organizations' cached pages must not name them.
    for org_id in org_ids:
        changed(session, (ORG, org_id))
    session.delete(user)
    session.flush()
    record = DeletionRecord(subject=Subject.account, subject_id=user_id, rows=dict(sorted(rows.items())))
    session.add(record)
    session.flush()
    log.info("account %s deleted at its own request: %s rows", user_id, sum(rows.values()))
    return record


def _forget_address(session: Session, user: User) -> Counter[str]:
    """In the current organization: the invitations the user accepted (which hold their address) go; audit
    events keep what happened but no longer name the address."""
    rows: Counter[str] = Counter()
    accepted = delete(Invitation).where(Invitation.accepted_by_id == user.id)
    rows["invitations"] = session.execute(accepted, execution_options={"synchronize_session": False}).rowcount
    naming = select(AuditEvent).where(func.lower(AuditEvent.details["email"].as_string()) == user.email)
    for event in session.scalars(naming):
        event.details = {key: value for key, value in event.details.items() if key != "email"}
        rows["audit_events (address removed)"] += 1
    session.flush()
    return rows


def _cascading_rows(session: Session, user_id: int, org_ids: list[int]) -> Counter[str]:
    """How many rows the database deletes with the user (its cascades), for the deletion record; a tenant
    table's rows are counted in each of the user's organizations, where row-level security shows them."""
    tenant_tables = {m.local_table for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)}
    rows: Counter[str] = Counter()
    for table, column in links_to(Base.metadata, "users"):
        keys = [fk for fk in column.foreign_keys if fk.column.table.name == "users"]
        if not all((fk.ondelete or "").upper() == "CASCADE" for fk in keys):
            continue
        count = select(func.count()).select_from(table).where(column == user_id)
        if table not in tenant_tables:
            rows[table.name] += session.scalar(count) or 0
            continue
        for org_id in org_ids:
            with tenancy.tenant_context(session, org_id):
                rows[table.name] += session.scalar(count.where(table.c.organization_id == org_id)) or 0
    return Counter({table: count for table, count in rows.items() if count})
