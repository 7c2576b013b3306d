"""The one trace a deletion leaves: that it happened, when, and how many rows went — never what they held."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from engpass.db import Base, string_enum, utcnow


class Subject(enum.StrEnum):
    organization = "organization"
    account = "account"


class DeletionRecord(Base):
    """A deleted organization or account, for the operator and the data-protection officer.

    Global and outside every organization: the organization's own audit log is deleted with it. It holds
    no name, slug, address or content — only the former id (which no row refers to any more), who asked
    (nulled when that account is deleted in turn), when, and the rows removed per table.
    """

    __tablename__ = "deletion_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[Subject] = mapped_column(string_enum(Subject, "deletion_subject"))
    # Deliberately no foreign key: the row it named is gone.
    subject_id: Mapped[int]
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)
    rows: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
