"""Whom a cycle's "Responsible" can name, as (user id, name) pairs by name.

A member picks from the organization's members. A consultant sees no member list of a client (the
client's consultants page promises it): only the people already responsible for one of its cycles, whose
names the board shows anyway."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.cycles.models import Cycle
from engpass.organizations import memberships


def members(session: Session, org_id: int) -> list[tuple[int, str]]:
    return memberships.people(session, org_id)


def responsible(session: Session, org_id: int) -> list[tuple[int, str]]:
    """Members of ``org_id`` who are responsible for one of its cycles."""
    owners = select(Cycle.owner_id).where(Cycle.organization_id == org_id, Cycle.owner_id.is_not(None))
    return memberships.people(session, org_id, among=owners)
