"""Who an identity provider's answer signs in: the rules over the ID token's claims, without HTTP.

An address must be verified by the provider (``email_verified``, or Entra ID's ``xms_edov``) and lie in one of
the organization's verified domains. Then an account with that address signs in, and a person new to the
organization joins it with the configured default role (just in time). Anything else signs nobody in and
creates nothing.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.accounts import security_log
from engpass.accounts.models import User, normalize_email
from engpass.accounts.service import create_user, find_user
from engpass.audit.service import record
from engpass.organizations import memberships
from engpass.organizations.models import Membership, Organization
from engpass.sso.config import verified_domains
from engpass.sso.models import SsoConfig, SsoDomain
from engpass.sso.provider import SignInFailed

TRUE_VALUES = (True, "true", "1", 1)


def organization_for_email(session: Session, email: str) -> Organization | None:
    """The organization whose verified domain the address lies in, if any."""
    domain = normalize_email(email).rpartition("@")[2]
    if not domain:
        return None
    return session.scalars(
        select(Organization)
        .join(SsoDomain, SsoDomain.organization_id == Organization.id)
        .where(SsoDomain.domain == domain, SsoDomain.verified_at.isnot(None))
    ).first()


def _verified_address(claims: dict[str, Any]) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SignInFailed("no_email", _l("The identity provider did not tell us your e-mail address."))
    # Entra ID sends no email_verified; its optional claim xms_edov says the domain owner verified it.
    if claims.get("email_verified") not in TRUE_VALUES and claims.get("xms_edov") not in TRUE_VALUES:
        raise SignInFailed(
            "email_unverified", _l("Your identity provider has not verified the e-mail address %(email)s.", email=email)
        )
    return normalize_email(email)


def sign_in(
    session: Session, org: Organization, config: SsoConfig, claims: dict[str, Any], ip_address: str | None
) -> User:
    """The account the verified claims stand for, joined to ``org`` if new to it; the tenant is ``org``'s."""
    try:
        email = _verified_address(claims)
        domain = email.rpartition("@")[2]
        if domain not in verified_domains(session, org.id):
            raise SignInFailed(
                "domain_not_verified",
                _l(
                    "%(domain)s is not a verified domain of %(org)s. Please log in with your password.",
                    domain=domain,
                    org=org.name,
                ),
            )
    except SignInFailed:
        known = find_user(session, claims["email"]) if isinstance(claims.get("email"), str) else None
        if known is not None:
            security_log.record(session, known.id, "sso_failed", ip_address)
        raise
    user = find_user(session, email)
    if user is None:
        # Signs in through the provider; a password nobody knows until they set one by the reset link.
        name = claims.get("name") if isinstance(claims.get("name"), str) and claims["name"].strip() else email
        user = create_user(session, email, name[:120], secrets.token_urlsafe(32), locale=org.locale)
    if memberships.membership_of(session, org.id, user.id) is None:
        membership = Membership(organization_id=org.id, user_id=user.id, role=config.default_role)
        session.add(membership)
        session.flush()
        record(
            session,
            "sso.member_joined",
            actor_id=user.id,
            object_type="membership",
            object_id=membership.id,
            user_id=user.id,
            role=membership.role.value,
        )
    security_log.record(session, user.id, "sso_login", ip_address)
    return user
