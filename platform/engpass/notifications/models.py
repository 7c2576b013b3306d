"""Notification preferences and the send log. Both are per user, so neither is tenant-owned."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engpass.db import Base, string_enum, utcnow


class NotificationPreferences(Base):
    """A user's choices about e-mail; no row means the defaults (``preferences.DEFAULTS``).

    A table of its own rather than columns on ``users``:

    - the ``users`` row is read on every request, and every change to it replaces the user's
      page-cache version token (``page_cache``), so switching the digest off would throw away
      the user's cached pages for nothing;
    - no row is the default, so existing and new users need no backfill and sign-up knows
      nothing about notifications;
    - this room owns its data: ``accounts`` stays unaware of digests and reminders, and a new
      kind of mail adds a column here, not to the user.

    Not tenant-owned: a consultant gets one digest across every organization they belong to.
    """

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint("digest_weekday BETWEEN 0 AND 6", name="digest_weekday"),
        CheckConstraint("digest_hour BETWEEN 0 AND 23", name="digest_hour"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    digest_enabled: Mapped[bool] = mapped_column(default=True)
    # Monday is 0, as ``date.weekday()`` counts.
    digest_weekday: Mapped[int] = mapped_column(default=0)
    # In the user's own time zone (``User.timezone``).
    digest_hour: Mapped[int] = mapped_column(default=7)
    reminders_enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SendStatus(enum.StrEnum):
    claimed = "claimed"  # a worker holds it until ``lease_until`` and is sending it
    sent = "sent"  # the SMTP server accepted it (or it was written to the outbox folder)
    retry = "retry"  # a temporary failure; may be claimed again from ``next_attempt_at``
    failed = "failed"  # a permanent failure, or too many temporary ones: never sent again


class SendLog(Base):
    """One row per e-mail that should go out exactly once: the key is (user, kind, period).

    Not tenant-owned: the digest spans organizations, and a row holds no tenant content —
    only which mail for which period (``sendlog`` describes the protocol).
    """

    __tablename__ = "send_log"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "period"),
        # The resend sweep's lookup: rows waiting for their next attempt or with an expired lease.
        Index("ix_send_log_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique key starts with it, which also serves the cascade from users.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(64))
    status: Mapped[SendStatus] = mapped_column(string_enum(SendStatus, "send_status"))
    # Claims so far; also the claim's generation, so a worker whose lease was taken over
    # cannot overwrite what the new holder records.
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
