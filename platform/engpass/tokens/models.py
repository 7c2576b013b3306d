"""Personal access tokens: a user's key to the API inside one organization."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engpass.db import Base, utcnow
from engpass.tenancy import TenantScoped


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they are UTC like everything stored here."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ApiToken(TenantScoped, Base):
    """One token of one user in one organization. Tenant-owned: a request finds it through the
    organization id the token carries (``engp_<org id>_<secret>``), never by looking across organizations.

    Only the sha256 of the whole token is kept; ``hint`` is its last characters, so a list can tell
    tokens apart. The token has no role of its own: every request acts with the user's role in the
    organization at that moment, so a demoted or removed member's token loses its powers at once.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_org_user", "organization_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and as_utc(self.expires_at) <= (now or utcnow())

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired()
