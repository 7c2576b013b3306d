"""An organization's single sign-on as its owners set it up: the provider, the domains, the requirement.

Every change is an audit event of the organization. Domains are verified by a DNS TXT record on the domain
(``engpass-domain-verification=<token>``): whoever can publish it controls the domain's mail and its
people's addresses, which is what an identity provider speaking for those addresses needs. The token is
derived from the app's secret key, the organization and the domain, so it is the same on every page and
cannot be reused for another organization or domain.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.resolver
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import sealed
from engpass.audit.service import record
from engpass.db import utcnow
from engpass.organizations.models import Organization, Role
from engpass.sso.models import SsoConfig, SsoDomain

SEALED_PURPOSE = "oidc"
TXT_PREFIX = "engpass-domain-verification="
# A DNS name of letters, digits and hyphens with at least one dot; no trailing dot, no wildcard.
DOMAIN_PATTERN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
DNS_TIMEOUT_SECONDS = 5.0

TxtLookup = Callable[[str], list[str]]


class SsoRefused(Exception):
    """A change an owner asked for that cannot be made, with the message to show."""

    def __init__(self, message: str | LazyString) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class ProviderSettings:
    issuer: str
    client_id: str
    client_secret: str | None
    default_role: Role


def config_of(session: Session) -> SsoConfig | None:
    """The current organization's provider (the tenancy layer names the organization)."""
    return session.scalars(select(SsoConfig)).one_or_none()


def client_secret(config: SsoConfig, secret_key: str) -> str | None:
    """The client secret in plain text; None when the app's secret key changed since it was sealed."""
    return sealed.unseal(SEALED_PURPOSE, secret_key, config.client_secret_sealed)


def save_provider(
    session: Session, org: Organization, settings: ProviderSettings, secret_key: str, actor_id: int
) -> SsoConfig:
    """Create or change the provider. A secret left empty keeps the stored one (it is never shown again)."""
    config = config_of(session)
    if config is None and not settings.client_secret:
        raise SsoRefused(_l("Please enter the client secret."))
    created = config is None
    if config is None:
        config = SsoConfig(organization_id=org.id)
        session.add(config)
    changed: list[str] = [
        name
        for name in ("issuer", "client_id", "default_role")
        if getattr(config, name, None) != getattr(settings, name)
    ]
    config.issuer = settings.issuer
    config.client_id = settings.client_id
    config.default_role = settings.default_role
    if settings.client_secret:
        config.client_secret_sealed = sealed.seal(SEALED_PURPOSE, secret_key, settings.client_secret)
        changed.append("client_secret")
    session.flush()
    if changed or created:
        record(
            session,
            "sso.configured",
            actor_id=actor_id,
            object_type="organization",
            object_id=org.id,
            issuer=config.issuer,
            client_id=config.client_id,
            default_role=config.default_role.value,
            fields=sorted(changed),
        )
    return config


def remove_provider(session: Session, org: Organization, actor_id: int) -> None:
    """Forget the provider; the requirement goes with it, or nobody but the owners could get in."""
    config = config_of(session)
    if config is None:
        return
    session.delete(config)
    if org.require_sso:
        set_required(session, org, False, actor_id)
    record(session, "sso.removed", actor_id=actor_id, object_type="organization", object_id=org.id)
    session.flush()


def set_required(session: Session, org: Organization, required: bool, actor_id: int) -> None:
    if required == org.require_sso:
        return
    if required and (config_of(session) is None or not verified_domains(session, org.id)):
        raise SsoRefused(_l("Set up the provider and verify a domain first."))
    org.require_sso = required
    record(
        session,
        "sso.required" if required else "sso.optional",
        actor_id=actor_id,
        object_type="organization",
        object_id=org.id,
    )
    session.flush()


def domains(session: Session, org_id: int) -> list[SsoDomain]:
    stmt = select(SsoDomain).where(SsoDomain.organization_id == org_id).order_by(SsoDomain.domain)
    return list(session.scalars(stmt))


def verified_domains(session: Session, org_id: int) -> list[str]:
    return [d.domain for d in domains(session, org_id) if d.verified_at is not None]


def domain_by_id(session: Session, org_id: int, domain_id: int) -> SsoDomain | None:
    """One of the organization's domains; another organization's is None (a 404)."""
    return session.scalars(
        select(SsoDomain).where(SsoDomain.id == domain_id, SsoDomain.organization_id == org_id)
    ).one_or_none()


def normalize_domain(value: str) -> str:
    return value.strip().lower().rstrip(".").removeprefix("@")


def add_domain(session: Session, org: Organization, value: str, actor_id: int) -> SsoDomain:
    domain = normalize_domain(value)
    if not DOMAIN_PATTERN.fullmatch(domain):
        raise SsoRefused(_l("This is not a domain name like firma.de."))
    if any(d.domain == domain for d in domains(session, org.id)):
        raise SsoRefused(_l("This domain is already on the list."))
    row = SsoDomain(organization_id=org.id, domain=domain)
    session.add(row)
    session.flush()
    record(session, "sso.domain_added", actor_id=actor_id, object_type="organization", object_id=org.id, domain=domain)
    return row


def remove_domain(session: Session, org: Organization, row: SsoDomain, actor_id: int) -> None:
    domain = row.domain
    session.delete(row)
    session.flush()
    if org.require_sso and not verified_domains(session, org.id):
        set_required(session, org, False, actor_id)
    record(
        session, "sso.domain_removed", actor_id=actor_id, object_type="organization", object_id=org.id, domain=domain
    )


def verification_token(secret_key: str, org_id: int, domain: str) -> str:
    digest = hmac.new(secret_key.encode(), f"engpass.sso-domain:{org_id}:{domain}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def txt_record(secret_key: str, org_id: int, domain: str) -> str:
    """The TXT record the owner publishes on the domain."""
    return TXT_PREFIX + verification_token(secret_key, org_id, domain)


def dns_txt_records(domain: str) -> list[str]:
    """The domain's TXT records, none when it has none or the DNS does not answer in time."""
    resolver = dns.resolver.Resolver()
    resolver.lifetime = DNS_TIMEOUT_SECONDS
    try:
        answer = resolver.resolve(domain, "TXT")
    except dns.exception.DNSException:
        return []
    return [b"".join(rdata.strings).decode(errors="replace") for rdata in answer]


def verify_domain(
    session: Session, org: Organization, row: SsoDomain, secret_key: str, actor_id: int, lookup: TxtLookup
) -> None:
    """Look the TXT record up now and mark the domain verified when it is there."""
    if row.verified_at is not None:
        return
    expected = txt_record(secret_key, org.id, row.domain)
    if expected not in (record.strip() for record in lookup(row.domain)):
        raise SsoRefused(
            _l(
                "The TXT record was not found on %(domain)s yet. DNS changes can take a while; try again later.",
                domain=row.domain,
            )
        )
    taken = session.scalars(
        select(SsoDomain.id).where(SsoDomain.domain == row.domain, SsoDomain.verified_at.isnot(None))
    ).first()
    if taken is not None:
        raise SsoRefused(_l("Another organization has verified this domain already."))
    row.verified_at = utcnow()
    session.flush()
    record(
        session,
        "sso.domain_verified",
        actor_id=actor_id,
        object_type="organization",
        object_id=org.id,
        domain=row.domain,
    )
