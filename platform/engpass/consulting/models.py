"""Consultancies and their clients: who may work inside whose organization, and how that began.

None of these tables is tenant-owned: each row joins two organizations, the consultancy and the
client, and is read when a request resolves its organization, before any tenant is in context
(like ``memberships``). Every query names the organization it is about.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engpass.db import Base, string_enum, utcnow
from engpass.organizations.models import Organization


class AccessLevel(enum.StrEnum):
    read = "read"
    edit = "edit"


class RequestStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    declined = "declined"


ACTIVE = text("revoked_at IS NULL")
PENDING = text("status = 'pending'")


class ClientAccess(Base):
    """A client granted a consultancy access to its organization; ``revoked_at`` ends it.

    Rows are never deleted or reused: a new grant after a revocation is a new row, so the history of
    who had access when stays readable. At most one row per pair is active.
    """

    __tablename__ = "client_accesses"
    __table_args__ = (
        Index(
            "uq_client_accesses_active_pair",
            "client_id",
            "consultancy_id",
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
        Index("ix_client_accesses_consultancy_active", "consultancy_id", "revoked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultancy_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    level: Mapped[AccessLevel] = mapped_column(string_enum(AccessLevel, "access_level"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    consultancy: Mapped[Organization] = relationship(foreign_keys=[consultancy_id])
    client: Mapped[Organization] = relationship(foreign_keys=[client_id])

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class AccessRequest(Base):
    """A consultancy asks a client for access by the client's address (its slug).

    ``client_id`` is NULL when the slug named no company: the request is stored all the same and
    looks pending to the consultancy, so asking does not tell whether an organization exists.
    """

    __tablename__ = "access_requests"
    __table_args__ = (
        Index(
            "uq_access_requests_pending_pair",
            "consultancy_id",
            "client_slug",
            unique=True,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        ),
        Index("ix_access_requests_client_status", "client_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultancy_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    client_slug: Mapped[str] = mapped_column(String(63))
    level: Mapped[AccessLevel] = mapped_column(string_enum(AccessLevel, "access_level"))
    message: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[RequestStatus] = mapped_column(
        string_enum(RequestStatus, "access_request_status"), default=RequestStatus.pending
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    consultancy: Mapped[Organization] = relationship(foreign_keys=[consultancy_id])
    client: Mapped[Organization | None] = relationship(foreign_keys=[client_id])


class InvitationCode(Base):
    """The consultancy's invitation code: a client who enters it grants the consultancy access.

    One per consultancy, random, shown to its admins, replaced by a new one on request (the old one
    stops working at once). Stored without separators, upper case.
    """

    __tablename__ = "consultancy_invitation_codes"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
