"""Every query on memberships that names an organization.

Memberships are a global table, not tenant rows: a user's memberships are read across organizations
(the switcher, where a login lands), so the tenancy filter does not apply and every query that means
one organization's people has to name it by hand. It is named here and nowhere else
(``tests/unit/test_membership_queries.py`` fails on a query elsewhere): a query that forgot it would show
another company's people. Queries of other rooms that join memberships to their own tables take the
condition from ``in_org``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from engpass.accounts.models import User
from engpass.organizations.models import Membership, Organization, Role


def in_org(org_id: Any, membership: Any = Membership) -> ColumnElement[bool]:
    """The condition that a membership (or an alias of ``Membership``) is one of ``org_id``'s, which may be
    a value or a column of another table."""
    return membership.organization_id == org_id


def membership_for(session: Session, slug: str, user_id: int) -> Membership | None:
    """The user's membership in the organization with ``slug``, organization loaded, in one query."""
    stmt = (
        select(Membership).join(Membership.organization).where(Organization.slug == slug, Membership.user_id == user_id)
    )
    return session.scalars(stmt.options(contains_eager(Membership.organization))).first()


def membership_of(session: Session, org_id: int, user_id: int) -> Membership | None:
    return session.scalars(select(Membership).where(in_org(org_id), Membership.user_id == user_id)).first()


def membership_by_id(session: Session, org_id: int, membership_id: int) -> Membership | None:
    """A membership of this organization: another organization's id answers None, like a missing one."""
    return session.scalars(select(Membership).where(Membership.id == membership_id, in_org(org_id))).first()


def role_of(session: Session, user_id: int, org_id: int) -> Role | None:
    """The user's role in the organization, None when they are not a member (any more)."""
    return session.scalar(select(Membership.role).where(Membership.user_id == user_id, in_org(org_id)))


def memberships_of(session: Session, user_id: int) -> list[Membership]:
    """A user's organizations for the switcher, in one query."""
    stmt = (
        select(Membership)
        .join(Membership.organization)
        .where(Membership.user_id == user_id)
        .options(contains_eager(Membership.organization))
        .order_by(Organization.name)
    )
    return list(session.scalars(stmt))


def last_used(session: Session, user_id: int) -> Membership | None:
    """The user's membership used most recently (never used ones last)."""
    stmt = (
        select(Membership)
        .where(Membership.user_id == user_id)
        .order_by(Membership.last_used_at.desc().nulls_last(), Membership.id)
    )
    return session.scalars(stmt).first()


def organization_ids(session: Session, user_id: int) -> list[int]:
    return list(session.scalars(select(Membership.organization_id).where(Membership.user_id == user_id)))


def with_users(session: Session, org_id: int) -> list[Membership]:
    """Everyone in the organization with their user, in one query, in the order they joined."""
    stmt = select(Membership).where(in_org(org_id)).options(joinedload(Membership.user)).order_by(Membership.id)
    return list(session.scalars(stmt))


def with_names_statement(org_id: int) -> Select[tuple[Membership, str, str]]:
    """Everyone in the organization with the person's name and e-mail address, in the order they joined."""
    return (
        select(Membership, User.name, User.email)
        .join(User, User.id == Membership.user_id)
        .where(in_org(org_id))
        .order_by(Membership.id)
    )


def count_statement(org_id: int) -> Select[tuple[int]]:
    return select(func.count()).select_from(Membership).where(in_org(org_id))


def user_ids(session: Session, org_ids: Iterable[int]) -> list[int]:
    """The members of these organizations (a user in several of them as often)."""
    return list(session.scalars(select(Membership.user_id).where(Membership.organization_id.in_(list(org_ids)))))


def people(
    session: Session, org_id: int, among: Select[Any] | None = None, roles: Iterable[Role] | None = None
) -> list[tuple[int, str]]:
    """The organization's members as (user id, name), by name; only those in ``among`` (user ids) and with one
    of ``roles`` if given."""
    stmt = select(User.id, User.name).join(Membership, Membership.user_id == User.id).where(in_org(org_id))
    if among is not None:
        stmt = stmt.where(User.id.in_(among))
    if roles is not None:
        stmt = stmt.where(Membership.role.in_(list(roles)))
    stmt = stmt.order_by(func.lower(User.name), User.id)
    return [(user_id, name) for user_id, name in session.execute(stmt)]


def has_member_with_email(session: Session, org_id: int, address: str) -> bool:
    stmt = (
        select(func.count())
        .select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .where(in_org(org_id), User.email == address)
    )
    return bool(session.scalar(stmt))


def lock_owners(session: Session, org_id: int) -> list[int]:
    """The ids of the organization's owners' memberships, read FOR UPDATE (PostgreSQL): two changes of
    owners at once cannot both leave it without one."""
    stmt = select(Membership.id).where(in_org(org_id), Membership.role == Role.owner).with_for_update()
    return list(session.scalars(stmt))


def lock_owners_of_orgs_owned_by(session: Session, user_id: int) -> None:
    """``lock_owners`` for every organization the user owns, in one statement."""
    owned = select(Membership.organization_id).where(Membership.user_id == user_id, Membership.role == Role.owner)
    session.execute(
        select(Membership.id)
        .where(Membership.organization_id.in_(owned), Membership.role == Role.owner)
        .with_for_update()
    )


def sole_owned(session: Session, user_id: int) -> list[Organization]:
    """The organizations whose only owner the user is, by name; one query."""
    other = aliased(Membership)
    another_owner = exists().where(
        in_org(Membership.organization_id, other), other.role == Role.owner, other.user_id != user_id
    )
    return list(
        session.scalars(
            select(Organization)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == user_id, Membership.role == Role.owner, ~another_owner)
            .order_by(Organization.name, Organization.id)
        )
    )
