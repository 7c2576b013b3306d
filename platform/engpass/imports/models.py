"""An uploaded file waiting between its upload, the column mapping and the import."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from engpass.db import Base, utcnow
from engpass.tenancy import TenantScoped

# An upload is mapped and imported within minutes; one left behind is removed at the next upload.
KEPT_FOR = timedelta(hours=24)


class MeasurementUpload(TenantScoped, Base):
    """The file as uploaded (at most ``parsing.MAX_BYTES``), read again at every step so that nothing the
    browser sends back is trusted: the pages carry only this row's id, which only its uploader can use.
    One per person and cycle; removed by the import and, when abandoned, by a later upload."""

    __tablename__ = "measurement_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
