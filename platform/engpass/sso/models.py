"""Single sign-on with OpenID Connect: an organization's identity provider and the e-mail domains it speaks for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from engpass.db import Base, string_enum, utcnow
from engpass.organizations.models import Role
from engpass.tenancy import TenantScoped


class SsoConfig(TenantScoped, Base):
    """One organization's OpenID provider. The client secret is sealed (``engpass.sealed``, purpose "oidc"):
    a copy of the database alone does not yield it, and no page shows it again after it was saved."""

    __tablename__ = "sso_configs"
    __table_args__ = (UniqueConstraint("organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_sealed: Mapped[str] = mapped_column(Text)
    # The role of a person of a verified domain who signs in for the first time (just in time).
    default_role: Mapped[Role] = mapped_column(string_enum(Role, "sso_default_role"), default=Role.member)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SsoDomain(Base):
    """An e-mail domain an organization claims, and since when it is verified by its DNS TXT record.

    Global, not tenant-owned: the login page finds the organization by the domain of an address before any
    organization is known. A domain may be claimed by several organizations while unverified, but verified for
    one only (the partial unique index): it decides whose provider speaks for the people of that domain."""

    __tablename__ = "sso_domains"
    __table_args__ = (
        UniqueConstraint("organization_id", "domain"),
        Index(
            "uq_sso_domains_verified_domain",
            "domain",
            unique=True,
            sqlite_where=text("verified_at IS NOT NULL"),
            postgresql_where=text("verified_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
