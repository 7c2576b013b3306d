"""The request's organization as the rooms read it, and who may see what of it.

``engpass.gateway`` sets ``g.org`` and ``g.membership`` when a request enters an organization;
the rooms read them here (``current_org``, ``has_role``). Also where a login lands.
"""

from __future__ import annotations

from typing import cast

from flask import g, url_for
from sqlalchemy.orm import Session
from werkzeug.local import LocalProxy

from engpass.organizations import memberships
from engpass.organizations.models import Membership, Organization, OrgKind, Role

LAST_ORG_KEY = "last_org"
# The organization whose identity provider signed this session in (sso/); the gateway asks for it where an
# organization requires single sign-on.
SSO_ORG_KEY = "sso_org"

ROLE_RANK = {Role.viewer: 0, Role.member: 1, Role.admin: 2, Role.owner: 3}

current_org: Organization = cast(Organization, LocalProxy(lambda: g.org))
# A Membership, or for a consultant a ConsultantSeat (engpass.consulting.service) with the same ``role`` and
# ``organization``: never write to it.
current_membership: Membership = cast(Membership, LocalProxy(lambda: g.membership))


def has_role(minimum: Role) -> bool:
    membership = g.get("membership")
    return membership is not None and ROLE_RANK[membership.role] >= ROLE_RANK[minimum]


def landing_membership(session: Session, user_id: int, preferred_slug: str | None) -> Membership | None:
    """Where a user lands after login: the organization used last, else the most recently used one."""
    if preferred_slug:
        membership = memberships.membership_for(session, preferred_slug, user_id)
        if membership is not None:
            return membership
    return memberships.last_used(session, user_id)


def landing_url(membership: Membership) -> str:
    """A company's dashboard; a consultancy's portfolio (its consultants start the week there)."""
    if membership.organization.kind == OrgKind.consultancy:
        return url_for("consulting.portfolio", org_slug=membership.organization.slug)
    return url_for("organizations.home", org_slug=membership.organization.slug)
