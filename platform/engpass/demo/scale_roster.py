"""Who the scale demo's organizations and people are: names, slugs, addresses, roles and languages derived
from their numbers, so the benchmark and the tests find them again without a lookup table."""

from __future__ import annotations

from engpass.organizations.models import Role

NAME_PREFIX = "Bench Firma"
SLUG_PREFIX = "bench-firma"
EMAIL_DOMAIN = "demo.example"
MEMBER_ROLES = (Role.admin, Role.member, Role.member, Role.member, Role.viewer)


def org_name(number: int) -> str:
    return f"{NAME_PREFIX} {number:04d}"


def org_slug(number: int) -> str:
    return f"{SLUG_PREFIX}-{number:04d}"


def owner_email(number: int) -> str:
    return f"bench-{number:04d}@{EMAIL_DOMAIN}"


def member_email(number: int, member: int) -> str:
    return f"bench-{number:04d}-{member:02d}@{EMAIL_DOMAIN}"


def member_role(member: int) -> Role:
    """Members 1, 2, … take these roles in turn: an admin, mostly members, a viewer now and then."""
    return MEMBER_ROLES[(member - 1) % len(MEMBER_ROLES)]


def member_locale(member: int) -> str:
    """Every third member reads in English, so a batch of digests switches languages as real ones do."""
    return "en" if member % 3 == 0 else "de"
