"""Who is calling: the bearer token names the organization and the user; the user's seat there names the role.

Runs before every API route, in the place of the web's ``gateway.web._resolve_org``, and enters the
organization through the same ``gateway.seat.enter``: ``g.org``, ``g.membership`` (a ``Membership`` or a
consultant's seat, so ``require_permission`` and the matrix answer exactly as in the web), the
consultancy and the tenant context. Session cookies never
authenticate here: the request's user for Flask-Login stays anonymous, the acting user is
``g.api_user``.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from engpass import tenancy
from engpass.accounts.models import User
from engpass.api.problems import ApiProblem
from engpass.consulting.service import seat_from, with_seat
from engpass.db import db
from engpass.extensions import limiter, login_manager
from engpass.gateway.seat import enter
from engpass.organizations.models import Organization
from engpass.tokens import service as tokens
from engpass.tokens.models import ApiToken

REALM = "engpass"


def unauthorized(detail: str, *, invalid: bool = True) -> ApiProblem:
    challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if invalid else "")
    return ApiProblem(401, detail, headers={"WWW-Authenticate": challenge})


def _bearer_token() -> str:
    scheme, _sep, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise unauthorized(_("Send a personal access token: Authorization: Bearer <token>."), invalid=False)
    return credentials.strip()


# Built once: every request runs it with another hash (see consulting.service's seat statement). The token,
# its user and the user's seat in the token's organization come in one statement.
_TOKEN = with_seat(
    select(ApiToken, User)
    .join(User, User.id == ApiToken.user_id)
    .join(Organization, Organization.id == ApiToken.organization_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def authenticate() -> None:
    """The blueprint's ``before_request``: 401 unless the token is valid and its user still has a seat."""
    # Even with a session cookie in the request, nobody is logged in for the API.
    g._login_user = login_manager.anonymous_user()
    token = _bearer_token()
    org_id = tokens.org_id_of(token)
    if org_id is None:
        raise unauthorized(_("This is not an Engpass token (engp_…)."))
    # The token's rows are the organization's: look for it inside it, under row-level security.
    tenancy.activate(db.session, org_id)
    row = db.session.execute(_TOKEN, {"token_hash": tokens.hash_token(token)}).first()
    if row is None:
        raise unauthorized(_("This token is unknown."))
    api_token, user = row[0], row[1]
    if api_token.revoked_at is not None:
        raise unauthorized(_("This token was revoked."))
    if api_token.is_expired():
        raise unauthorized(_("This token has expired."))
    # The role is the user's role today: a demoted member's token is demoted too, a removed one stops.
    seat = seat_from(user.id, row[2:])
    if seat is None or not user.is_active:
        raise unauthorized(_("The token's user no longer belongs to this organization."))
    enter(seat)
    g.api_token = api_token
    g.api_user = user
    if tokens.touch(db.session, api_token):
        db.session.commit()


def _token_key() -> str:
    return f"api-token:{g.api_token.id}"


def _api_rate_limit() -> str:
    return current_app.extensions["engpass.settings"].api_rate_limit


# One budget per token across every endpoint; counted after authentication, so only real tokens spend it.
rate_limited = limiter.shared_limit(_api_rate_limit, scope="api-v1", key_func=_token_key)
