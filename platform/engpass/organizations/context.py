"""Resolving the organization of a request from its URL, and guarding who may see it.

Every organization page is registered through ``org_blueprint``, so the slug is
resolved, membership checked and the tenant context set in one place. Another
organization's page answers 404 exactly like a slug that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, abort, flash, g, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager
from werkzeug.local import LocalProxy

from engpass import tenancy
from engpass.audit.service import acting_via
from engpass.consulting.service import ConsultantSeat, seat_for
from engpass.db import db, utcnow
from engpass.extensions import login_manager
from engpass.organizations.models import Membership, Organization, OrgKind, Role

LAST_ORG_KEY = "last_org"
# Organizations by slug as this process last resolved them, for lookups before any query (the
# page cache). A stale entry is harmless: whatever is built on it is checked against the slug's
# real organization before it is stored.
KNOWN_ORG_IDS_MAX = 10_000
_known_org_ids: dict[str, int] = {}
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
F = TypeVar("F", bound=Callable[..., Any])

ROLE_RANK = {Role.viewer: 0, Role.member: 1, Role.admin: 2, Role.owner: 3}

current_org: Organization = cast(Organization, LocalProxy(lambda: g.org))
# A Membership, or for a consultant a ConsultantSeat (engpass.consulting.service) with the same ``role`` and
# ``organization``: never write to it.
current_membership: Membership = cast(Membership, LocalProxy(lambda: g.membership))


def org_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint whose every route lives under ``/o/<org_slug>`` and requires membership."""
    bp = Blueprint(name, import_name, url_prefix="/o/<org_slug>" + url_prefix)
    bp.url_value_preprocessor(_pull_slug)
    bp.url_defaults(_add_slug)
    bp.before_request(_resolve_org)
    return bp


def _pull_slug(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.org_slug = (values or {}).pop("org_slug", None)


def _add_slug(_endpoint: str, values: dict[str, Any]) -> None:
    if "org_slug" not in values and getattr(g, "org", None) is not None:
        values["org_slug"] = g.org.slug


def membership_for(session: Session, slug: str, user_id: int) -> Membership | None:
    """The user's membership in the organization with ``slug``, organization loaded, in one query."""
    stmt = (
        select(Membership).join(Membership.organization).where(Organization.slug == slug, Membership.user_id == user_id)
    )
    return session.scalars(stmt.options(contains_eager(Membership.organization))).first()


def _resolve_org() -> Any:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    slug = g.get("org_slug")
    if not slug or not SLUG_PATTERN.fullmatch(slug):
        abort(404)
    # A membership, or else a consultant's seat through an active ClientAccess: one query either way.
    membership = seat_for(db.session, slug, current_user.id)
    if membership is None:
        abort(404)
    if membership.organization.require_two_factor and not current_user.has_two_factor:
        # Not a 403: the person belongs here and only has to set something up (docs/authentication.md).
        name = membership.organization.name
        flash(_("%(name)s requires two-factor authentication. Please set it up to continue.", name=name), "info")
        return redirect(url_for("twofactor.status"))
    g.org = membership.organization
    g.membership = membership
    g.consulting = membership.consultancy if isinstance(membership, ConsultantSeat) else None
    if len(_known_org_ids) >= KNOWN_ORG_IDS_MAX:
        _known_org_ids.clear()
    _known_org_ids[slug] = membership.organization_id
    tenancy.activate(db.session, membership.organization_id)
    if g.consulting is not None:
        # Whatever the consultant changes here, the client's audit log names the consultancy too.
        acting_via(db.session, membership.organization_id, g.consulting.id)
    if session.get(LAST_ORG_KEY) != slug:
        session[LAST_ORG_KEY] = slug
        if isinstance(membership, Membership):
            membership.last_used_at = utcnow()
            db.session.commit()
    return None


def known_org_id(slug: str | None) -> int | None:
    return _known_org_ids.get(slug) if slug else None


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
        membership = membership_for(session, preferred_slug, user_id)
        if membership is not None:
            return membership
    stmt = (
        select(Membership)
        .where(Membership.user_id == user_id)
        .order_by(Membership.last_used_at.desc().nulls_last(), Membership.id)
    )
    return session.scalars(stmt).first()


def landing_url(membership: Membership) -> str:
    """A company's dashboard; a consultancy's portfolio (its consultants start the week there)."""
    if membership.organization.kind == OrgKind.consultancy:
        return url_for("consulting.portfolio", org_slug=membership.organization.slug)
    return url_for("organizations.home", org_slug=membership.organization.slug)
