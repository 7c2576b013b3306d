"""Organizations (the tenants) and who belongs to them."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engpass.db import Base, string_enum, utcnow

if TYPE_CHECKING:
    from engpass.accounts.models import User


class OrgKind(enum.StrEnum):
    company = "company"
    consultancy = "consultancy"


class Role(enum.StrEnum):
    owner = "owner"
    admin = "admin"
    member = "member"
    viewer = "viewer"


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    kind: Mapped[OrgKind] = mapped_column(string_enum(OrgKind, "org_kind"), default=OrgKind.company)
    locale: Mapped[str] = mapped_column(String(10), default="de")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    default_hourly_rate: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("65.00"))
    # Turns every weekly figure into a yearly one; 52 counts holidays as working weeks, many companies count 46.
    working_weeks_per_year: Mapped[int] = mapped_column(default=52, server_default=text("52"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by an owner: members and consultants without two-factor authentication are sent to set it up
    # before any page of this organization (gateway/web.py); the API's tokens are not affected.
    require_two_factor: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Set by an owner with single sign-on configured (sso/): members but the owners who did not sign in
    # through the organization's provider are sent there before any page of it (gateway/web.py).
    require_sso: Mapped[bool] = mapped_column(default=False, server_default=false())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Organization {self.slug}>"


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(string_enum(Role, "membership_role"), default=Role.member)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(back_populates="memberships")
