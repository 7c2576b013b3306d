"""A cycle's sponsor: the management's backing ("Rückendeckung der Geschäftsführung"), an owner or admin of
the organization who decides at the end — scale, iterate or drop.

Who may be named is a rule of the organization's roles, checked here for the web, the API and the candidates'
pick alike; naming or changing the sponsor lands in the audit log.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.audit.service import record
from engpass.cycles.models import Cycle
from engpass.cycles.rules import StageRuleViolation
from engpass.db import utcnow
from engpass.organizations import memberships
from engpass.organizations.permissions import SPONSOR_ROLES
from engpass.trends.service import mark_changed

# One message for a stranger, a member without the role and another organization's user: nobody learns
# whether the id exists elsewhere.
NOT_A_SPONSOR = _l("Please choose an owner or admin of this organization as sponsor.")


class SponsorRefused(StageRuleViolation):
    """The person named is no owner or admin of this organization: refused like a rule of the method, so the
    forms show it where they show the rules' words."""

    def __init__(self) -> None:
        super().__init__([NOT_A_SPONSOR])


def may_sponsor(session: Session, org_id: int, user_id: int) -> bool:
    return memberships.role_of(session, user_id, org_id) in SPONSOR_ROLES


def check_sponsor(session: Session, org_id: int, user_id: int | None) -> None:
    """Raise SponsorRefused unless ``user_id`` is None (no sponsor yet) or one of the organization's owners
    and admins."""
    if user_id is not None and not may_sponsor(session, org_id, user_id):
        raise SponsorRefused()


def default_sponsor(session: Session, org_id: int, actor_id: int | None) -> int | None:
    """Whoever names the bottleneck backs it when they may; else the cycle waits for one to be named."""
    if actor_id is not None and may_sponsor(session, org_id, actor_id):
        return actor_id
    return None


def candidates(session: Session, org_id: int) -> list[tuple[int, str]]:
    """The owners and admins, as (user id, name) by name."""
    return memberships.people(session, org_id, roles=SPONSOR_ROLES)


def sponsoring(session: Session, org_id: int) -> list[tuple[int, str]]:
    """Owners and admins who already back one of the organization's cycles: whom a consultant, who sees no
    member list of a client, may name."""
    named = select(Cycle.sponsor_id).where(Cycle.organization_id == org_id, Cycle.sponsor_id.is_not(None))
    return memberships.people(session, org_id, among=named, roles=SPONSOR_ROLES)


def set_sponsor(session: Session, cycle: Cycle, sponsor_id: int | None, actor_id: int | None) -> bool:
    """Name or change the cycle's sponsor (None: nobody yet); True when it changed. Raises SponsorRefused."""
    if sponsor_id == cycle.sponsor_id:
        return False
    check_sponsor(session, cycle.organization_id, sponsor_id)
    record(
        session,
        "cycle.sponsor_changed",
        actor_id=actor_id,
        object_type="cycle",
        object_id=cycle.id,
        changes={"sponsor_id": [cycle.sponsor_id, sponsor_id]},
    )
    cycle.sponsor_id = sponsor_id
    # The radar's "no sponsor" finding follows at once; the snapshots' weeks do not count sponsors.
    mark_changed(session, utcnow().date())
    return True
