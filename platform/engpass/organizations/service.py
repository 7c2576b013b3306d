"""Creating organizations and memberships, and the slugs that name them."""

from __future__ import annotations

import re
from decimal import Decimal

from slugify import slugify
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.accounts.models import User
from engpass.organizations.models import Membership, Organization, OrgKind, Role

GERMAN_TRANSLITERATION = [["Ä", "Ae"], ["Ö", "Oe"], ["Ü", "Ue"], ["ä", "ae"], ["ö", "oe"], ["ü", "ue"], ["ß", "ss"]]
SLUG_MAX = 50
# What a slug in a URL may be at all; anything else is a 404 before any query.
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
RESERVED_SLUGS = frozenset({"new", "admin", "api", "static", "login", "logout", "signup"})


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
