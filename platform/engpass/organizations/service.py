"""Creating organizations and memberships, and changing an organization's settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from slugify import slugify
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from engpass.accounts.models import User
from engpass.audit.service import record
from engpass.organizations.models import Membership, Organization, OrgKind, Role
from engpass.trends.service import mark_changed

GERMAN_TRANSLITERATION = [["Ä", "Ae"], ["Ö", "Oe"], ["Ü", "Ue"], ["ä", "ae"], ["ö", "oe"], ["ü", "ue"], ["ß", "ss"]]
SLUG_MAX = 50
RESERVED_SLUGS = frozenset({"new", "admin", "api", "static", "login", "logout", "signup"})
# What the settings page and the API's PATCH /organization change; the business case depends on them.
SETTINGS_FIELDS = ("name", "locale", "timezone", "currency", "default_hourly_rate")


def unique_slug(session: Session, name: str) -> str:
    base = slugify(name, replacements=GERMAN_TRANSLITERATION, max_length=SLUG_MAX) or "firma"
    if base in RESERVED_SLUGS:
        base = f"{base}-org"
    taken = set(
        session.scalars(
            select(Organization.slug).where((Organization.slug == base) | Organization.slug.startswith(base + "-"))
        )
    )
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug


def create_organization(
    session: Session,
    name: str,
    owner: User,
    *,
    kind: OrgKind = OrgKind.company,
    locale: str = "de",
    timezone: str = "Europe/Berlin",
    currency: str = "EUR",
    hourly_rate: Decimal = Decimal("65.00"),
) -> Organization:
    org = Organization(
        name=name.strip(),
        slug=unique_slug(session, name),
        kind=kind,
        locale=locale,
        timezone=timezone,
        currency=currency,
        default_hourly_rate=hourly_rate,
    )
    session.add(org)
    session.flush()
    add_member(session, org, owner, Role.owner)
    return org


def add_member(session: Session, org: Organization, user: User, role: Role) -> Membership:
    membership = Membership(organization_id=org.id, user_id=user.id, role=role)
    session.add(membership)
    session.flush()
    return membership


def role_of(session: Session, user_id: int, org_id: int) -> Role | None:
    """The user's role in the organization, None when they are not a member (any more)."""
    return session.scalar(
        select(Membership.role).where(Membership.user_id == user_id, Membership.organization_id == org_id)
    )


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


def update_settings(
    session: Session, org: Organization, values: dict[str, Any], actor_id: int | None
) -> dict[str, list[str]]:
    """Change the given settings; returns what changed as {field: [old, new]}, as the audit log records it.

    Savings of every week are valued at the hourly rate: a new rate rewrites the whole trend.
    """
    changes = {
        name: [str(getattr(org, name)), str(values[name])]
        for name in SETTINGS_FIELDS
        if name in values and getattr(org, name) != values[name]
    }
    for name in changes:
        setattr(org, name, values[name])
    if "default_hourly_rate" in changes:
        mark_changed(session)
    if changes:
        record(
            session,
            "organization.updated",
            actor_id=actor_id,
            object_type="organization",
            object_id=org.id,
            changes=changes,
        )
    return changes
