"""Whom a cycle's "Responsible" can name, as (user id, name) pairs by name.

A member picks from the organization's members. A consultant sees no member list of a client (the
client's consultants page promises it): only the people already responsible for one of its cycles, whose
names the board shows anyway."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engpass.accounts.models import User
from engpass.cycles.models import Cycle
from engpass.organizations.models import Membership


def members(session: Session, org_id: int) -> list[tuple[int, str]]:
    stmt = (
        select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == org_id)
        .order_by(func.lower(User.name), User.id)
    )
    return [(user_id, name) for user_id, name in session.execute(stmt)]


def responsible(session: Session, org_id: int) -> list[tuple[int, str]]:
    """Members of ``org_id`` who are responsible for one of its cycles."""
    owners = select(Cycle.owner_id).where(Cycle.organization_id == org_id, Cycle.owner_id.is_not(None))
    stmt = (
        select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == org_id, User.id.in_(owners))
        .order_by(func.lower(User.name), User.id)
    )
    return [(user_id, name) for user_id, name in session.execute(stmt)]
