"""The per-user security log: what happened to one's sign-ins and protection, with shortened addresses."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engpass.accounts.models import SecurityEvent
from engpass.db import utcnow

# Long enough to notice something odd after a holiday; older entries go when the next one is written.
RETENTION = timedelta(days=180)
SHOWN = 20

LABELS = {
    "login": _l("Logged in"),
    "login_failed": _l("Failed login (wrong password)"),
    "logout": _l("Logged out everywhere"),
    "two_factor_failed": _l("Wrong two-factor code"),
    "recovery_code_used": _l("Logged in with a recovery code"),
    "two_factor_enabled": _l("Two-factor authentication switched on"),
    "two_factor_disabled": _l("Two-factor authentication switched off"),
    "recovery_codes_renewed": _l("New recovery codes made"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset by e-mail link"),
    "email_changed": _l("E-mail address changed"),
    "reauthenticated": _l("Identity confirmed for a sensitive action"),
    "reauth_failed": _l("Failed confirmation for a sensitive action"),
    "sso_login": _l("Logged in with single sign-on"),
    "sso_failed": _l("Failed sign-in with single sign-on"),
    "api_token_revoked": _l("An API token of yours was revoked by an owner or admin of its organization"),
}


def network_of(address: str | None) -> str | None:
    """The address's network, not the address: IPv4 to /24, IPv6 to /48 (data minimisation, Art. 5 GDPR)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def record(session: Session, user_id: int, kind: str, address: str | None = None) -> None:
    """Add an event to the caller's transaction, and drop this user's events past the retention."""
    if kind not in LABELS:
        raise ValueError(f"unknown security event {kind!r}")
    session.execute(
        delete(SecurityEvent).where(SecurityEvent.user_id == user_id, SecurityEvent.created_at < utcnow() - RETENTION)
    )
    session.add(SecurityEvent(user_id=user_id, kind=kind, network=network_of(address)))
    session.flush()


def recent(session: Session, user_id: int, limit: int = SHOWN) -> list[SecurityEvent]:
    stmt = (
        select(SecurityEvent)
        .where(SecurityEvent.user_id == user_id)
        .order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
