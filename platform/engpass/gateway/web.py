"""The web's way into an organization: ``/o/<org_slug>/…`` and the signed-in user.

Every organization page is registered through ``org_blueprint``, so the slug is resolved, the seat
checked and the request entered (``seat.enter``) in one place. Another organization's page answers 404
exactly like a slug that does not exist.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, has_request_context, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engpass.accounts.models import User
from engpass.consulting.service import seat_for, user_and_seat
from engpass.db import db, utcnow
from engpass.extensions import login_manager
from engpass.gateway.seat import Seat, enter
from engpass.organizations.context import LAST_ORG_KEY, SSO_ORG_KEY
from engpass.organizations.models import Membership, Role
from engpass.organizations.service import SLUG_PATTERN

# Organizations by slug as this process last resolved them, for lookups before any query (the
# page cache). A stale entry is harmless: whatever is built on it is checked against the slug's
# real organization before it is stored.
KNOWN_ORG_IDS_MAX = 10_000
_known_org_ids: dict[str, int] = {}


def org_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint whose every route lives under ``/o/<org_slug>`` and requires a seat there."""
    bp = Blueprint(name, import_name, url_prefix="/o/<org_slug>" + url_prefix)
    bp.url_value_preprocessor(_pull_slug)
    bp.url_defaults(_add_slug)
    bp.before_request(_resolve_org)
    return bp


def _pull_slug(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.org_slug = (values or {}).pop("org_slug", None)
    # Whether the slug names an organization this session entered: then it is no text of anyone else's choosing
    # that a page reflects (compression.py). Set again once ``_resolve_org`` entered it.
    g.org_slug_entered = g.org_slug is not None and session.get(LAST_ORG_KEY) == g.org_slug


def _add_slug(_endpoint: str, values: dict[str, Any]) -> None:
    if "org_slug" not in values and getattr(g, "org", None) is not None:
        values["org_slug"] = g.org.slug


def _resolve_org() -> Any:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    slug = g.get("org_slug")
    if not slug or not SLUG_PATTERN.fullmatch(slug):
        abort(404)
    # A membership, or else a consultant's seat through an active ClientAccess: found with the user by the
    # user loader, or (a user loaded before the slug was known) in one query here.
    found = g.pop("seat_found", None)
    if found is not None and found[0] == (current_user.id, slug):
        seat = found[1]
    else:
        seat = seat_for(db.session, slug, current_user.id)
    if seat is None:
        abort(404)
    if seat.organization.require_two_factor and not current_user.has_two_factor:
        # Not a 403: the person belongs here and only has to set something up (docs/authentication.md).
        name = seat.organization.name
        flash(_("%(name)s requires two-factor authentication. Please set it up to continue.", name=name), "info")
        return redirect(url_for("twofactor.status"))
    if _needs_sso(seat):
        flash(_("%(name)s signs its members in through its identity provider.", name=seat.organization.name), "info")
        return redirect(url_for("sso.org_login", org_slug=slug))
    enter(seat)
    g.org_slug_entered = True
    if len(_known_org_ids) >= KNOWN_ORG_IDS_MAX:
        _known_org_ids.clear()
    _known_org_ids[slug] = seat.organization_id
    if session.get(LAST_ORG_KEY) != slug:
        session[LAST_ORG_KEY] = slug
        if isinstance(seat, Membership):
            seat.last_used_at = utcnow()
            db.session.commit()
    return None


def load_user(user_id: int, session_token: str) -> User | None:
    """Flask-Login's user for the session's id and token; None when the token no longer matches (the password
    was changed). On an organization's page the user comes with their seat there, in one statement, which
    ``_resolve_org`` then takes instead of asking again."""
    slug = g.get("org_slug") if has_request_context() else None
    if not slug or not SLUG_PATTERN.fullmatch(slug):
        user = db.session.get(User, user_id)
        return user if user is not None and user.session_token == session_token else None
    user, seat = user_and_seat(db.session, user_id, slug)
    if user is None or user.session_token != session_token:
        return None
    g.seat_found = ((user_id, slug), seat)
    return user


def _needs_sso(seat: Seat) -> bool:
    """Where an organization requires single sign-on, its members but the owners (who keep the password and
    2FA as the way back in) must have come through its provider. A consultant's seat is his firm's affair:
    he signs in the way his own organization asks (docs/sso.md)."""
    return (
        seat.organization.require_sso
        and isinstance(seat, Membership)
        and seat.role != Role.owner
        and session.get(SSO_ORG_KEY) != seat.organization_id
    )


def known_org_id(slug: str | None) -> int | None:
    return _known_org_ids.get(slug) if slug else None


def cached_page_org_id() -> int | None:
    """The organization of this request's slug when a page cache may answer before any query: this process
    resolved the slug before and the session already records it as its last organization (a first visit
    records it, which needs the full path)."""
    slug = g.get("org_slug")
    org_id = known_org_id(slug)
    if org_id is None or session.get(LAST_ORG_KEY) != slug:
        return None
    return org_id
