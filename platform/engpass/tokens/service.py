"""Making, finding and revoking personal access tokens, inside the current organization.

A token reads ``engp_<organization id>_<secret>``: the id tells the API which organization's rows
to look in (under its tenant context and row-level security, like every request), the secret
proves the holder. The id alone proves nothing — a wrong one finds no row. Only the sha256 of
the whole token is stored: the secret has 256 bits of randomness, so a fast hash is enough.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session, scoped_session

from engpass.accounts.models import User
from engpass.audit.service import record
from engpass.db import utcnow
from engpass.organizations import memberships
from engpass.organizations.models import Membership, Role
from engpass.tenancy import require_org_id
from engpass.tokens.models import ApiToken, as_utc

PREFIX = "engp_"
SECRET_BYTES = 32
HINT_LENGTH = 4
NAME_MAX = 100
# The pattern of a whole token: prefix, organization id, 43 URL-safe characters.
TOKEN_PATTERN = re.compile(r"engp_([1-9][0-9]{0,9})_([A-Za-z0-9_-]{43})")
# Writing the last use on every request would make every API read a write; once a minute is
# precise enough for "last used".
TOUCH_INTERVAL = timedelta(minutes=1)
EXPIRY_CHOICES_DAYS = (30, 90, 365)
ORG_ID_MAX = 2**31 - 1

SessionLike = Session | scoped_session[Session]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def org_id_of(token: str) -> int | None:
    """The organization a well-formed token names; None for anything else — also for an id beyond the
    column's range, which row-level security's integer cast would refuse with an error."""
    match = TOKEN_PATTERN.fullmatch(token)
    org_id = int(match.group(1)) if match else None
    return org_id if org_id is not None and org_id <= ORG_ID_MAX else None


def create_token(
    session: SessionLike, user_id: int, name: str, expires_at: datetime | None, actor_id: int | None
) -> tuple[ApiToken, str]:
    """A new token of ``user_id`` in the current organization; the token itself is returned only here."""
    org_id = require_org_id()
    token = f"{PREFIX}{org_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
    api_token = ApiToken(
        user_id=user_id,
        name=name.strip()[:NAME_MAX],
        token_hash=hash_token(token),
        hint=token[-HINT_LENGTH:],
        expires_at=expires_at,
    )
    session.add(api_token)
    session.flush()
    record(
        session,
        "api_token.created",
        actor_id=actor_id,
        object_type="api_token",
        object_id=api_token.id,
        name=api_token.name,
        user_id=user_id,
        hint=api_token.hint,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return api_token, token


def revoke_token(session: SessionLike, api_token: ApiToken, actor_id: int | None) -> bool:
    """Revoke once; False when it was revoked already (nothing recorded twice)."""
    if api_token.revoked_at is not None:
        return False
    api_token.revoked_at = utcnow()
    record(
        session,
        "api_token.revoked",
        actor_id=actor_id,
        object_type="api_token",
        object_id=api_token.id,
        name=api_token.name,
        user_id=api_token.user_id,
        hint=api_token.hint,
    )
    return True


def tokens_of(session: SessionLike, user_id: int) -> list[ApiToken]:
    """The user's tokens in the current organization, newest first (revoked ones too, for the record)."""
    stmt = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    return list(session.scalars(stmt))


def token_of(session: SessionLike, user_id: int, token_id: int) -> ApiToken | None:
    """One of the user's own tokens; another user's token is None, exactly like a missing one."""
    return session.scalars(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)).first()


@dataclass(frozen=True)
class OthersToken:
    """Another person's token as an admin sees it: whose it is and their role here."""

    token: ApiToken
    person: str
    role: Role


def _of_others(user_id: int) -> Select[tuple[ApiToken, str, Role]]:
    return (
        select(ApiToken, User.name, Membership.role)
        .join(User, User.id == ApiToken.user_id)
        .join(
            Membership,
            (Membership.user_id == ApiToken.user_id) & memberships.in_org(ApiToken.organization_id),
        )
        .where(ApiToken.user_id != user_id)
    )


def working_tokens_of_others(session: SessionLike, user_id: int, now: datetime | None = None) -> list[OthersToken]:
    """Every token of the organization's other members that still works, by person, newest first; one query.
    Revoked and expired ones are in the audit log; a former member's tokens stop working when they leave."""
    working = or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > (now or utcnow()))
    stmt = (
        _of_others(user_id)
        .where(ApiToken.revoked_at.is_(None), working)
        .order_by(User.name, ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return [OthersToken(token, person, role) for token, person, role in session.execute(stmt)]


def token_of_other(session: SessionLike, user_id: int, token_id: int) -> OthersToken | None:
    """A current member's token other than ``user_id``'s, for an admin to revoke; None when there is none."""
    row = session.execute(_of_others(user_id).where(ApiToken.id == token_id)).first()
    return None if row is None else OthersToken(*row)


def touch(session: SessionLike, api_token: ApiToken, now: datetime | None = None) -> bool:
    """Record the use, at most once per ``TOUCH_INTERVAL``; True when a write was made."""
    now = now or utcnow()
    if api_token.last_used_at is not None and now - as_utc(api_token.last_used_at) < TOUCH_INTERVAL:
        return False
    # A plain UPDATE: the row may have been loaded with other columns the request must not flush.
    session.execute(update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now))
    return True


def expiry_for(days: int | None, now: datetime | None = None) -> datetime | None:
    return None if not days else (now or utcnow()) + timedelta(days=days)
