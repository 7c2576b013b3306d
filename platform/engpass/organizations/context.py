"""The request's organization as the rooms read it, and who may see what of it.

``engpass.gateway`` sets ``g.org`` and ``g.membership`` when a request enters an organization;
the rooms read them here (``current_org``, ``has_role``). Also where a login lands.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, g, url_for
from sqlalchemy.orm import Session
from werkzeug.local import LocalProxy

from engpass.organizations import memberships
from engpass.organizations.models import Membership, Organization, OrgKind, Role

LAST_ORG_KEY = "last_org"
F = TypeVar("F", bound=Callable[..., Any])

ROLE_RANK = {Role.viewer: 0, Role.member: 1, Role.admin: 2, Role.owner: 3}

current_org: Organization = cast(Organization, LocalProxy(lambda: g.org))
# A Membership, or for a consultant a ConsultantSeat (engpass.consulting.service) with the same ``role`` and
# ``organization``: never write to it.
current_membership: Membership = cast(Membership, LocalProxy(lambda: g.membership))


def has_role(minimum: Role) -> bool:
    membership = g.get("membership")
    return membership is not None and ROLE_RANK[membership.role] >= ROLE_RANK[minimum]


def require_role(minimum: Role) -> Callable[[F], F]:
    """Refuse with 403: the organization is the user's own, so its existence is no secret."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not has_role(minimum):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


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
