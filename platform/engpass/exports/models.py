"""An owner's export of all the organization's data: a ZIP a worker builds, downloadable for a day."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engpass.db import Base, string_enum, utcnow
from engpass.tenancy import TenantScoped

# How long a finished export can be downloaded: long enough to fetch it tomorrow morning, short enough
# that a copy of everything does not lie around.
AVAILABLE_FOR = timedelta(hours=24)


class ExportStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


def aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; they are UTC like everything stored here.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class DataExport(TenantScoped, Base):
    """One export of the organization's data. ``file_name`` is relative to the export folder
    (``Settings.export_dir``) and random, so a name on disk says nothing and guesses nothing."""

    __tablename__ = "data_exports"
    __table_args__ = (Index("ix_data_exports_org_created", "organization_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[ExportStatus] = mapped_column(
        string_enum(ExportStatus, "data_export_status"), default=ExportStatus.queued
    )
    progress: Mapped[int] = mapped_column(default=0)
    file_name: Mapped[str | None] = mapped_column(String(255), default=None)
    size_bytes: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def in_progress(self) -> bool:
        return self.status in (ExportStatus.queued, ExportStatus.running)

    def is_available(self, now: datetime | None = None) -> bool:
        """Done, its file named, and not expired."""
        return (
            self.status == ExportStatus.done
            and self.file_name is not None
            and self.expires_at is not None
            and aware(self.expires_at) > (now or utcnow())
        )

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and aware(self.expires_at) <= (now or utcnow())
