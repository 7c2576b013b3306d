"""Invitations to join an organization: by e-mail, with a single-use token of which only a hash is kept."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engpass.db import Base, string_enum, utcnow
from engpass.organizations.models import Role
from engpass.tenancy import TenantScoped


class Invitation(TenantScoped, Base):
    """One invitation of one address. Tenant-owned: the accept page finds it through the organization
    id that the link carries (``team.tokens``), never by looking across organizations.

    ``token_hash`` is the sha256 of the link's token and is NULL until the worker that sends the mail
    makes the token (the token itself is never stored, nor passed through the outbox or the broker).
    ``send_round`` counts the sends asked for: a resend makes a new round, a new token and kills the old.
    """

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_org_email", "organization_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(string_enum(Role, "invitation_role"), default=Role.member)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    send_round: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # What the mail server said when the last send failed; shown on the team page.
    mail_error: Mapped[str | None] = mapped_column(Text, default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_open(self) -> bool:
        """Neither accepted nor cancelled (it may still have expired)."""
        return self.accepted_at is None and self.cancelled_at is None

    def is_expired(self, now: datetime | None = None) -> bool:
        # SQLite hands back naive datetimes; they are UTC like everything stored here.
        expires = self.expires_at if self.expires_at.tzinfo else self.expires_at.replace(tzinfo=UTC)
        return expires <= (now or utcnow())
