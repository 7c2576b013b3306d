"""What each user wants to receive, and when their weekly digest is due."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from engpass.accounts.models import User
from engpass.db import dialect_insert, utcnow
from engpass.i18n import DEFAULT_TIMEZONE, zone_named
from engpass.notifications.models import NotificationPreferences


class Topic(enum.StrEnum):
    """What a recipient can unsubscribe from."""

    digest = "digest"
    reminders = "reminders"


@dataclass(frozen=True)
class Preferences:
    """A user's effective choices: their row, or the defaults when they never changed anything."""

    digest_enabled: bool = True
    digest_weekday: int = 0  # Monday, as date.weekday() counts
    digest_hour: int = 7
    reminders_enabled: bool = True
    # Not stored here: the user's own time zone (User.timezone), which the digest hour is in.
    timezone: str = DEFAULT_TIMEZONE


DEFAULTS = Preferences()
EDITABLE = ("digest_enabled", "digest_weekday", "digest_hour", "reminders_enabled")


def _from_row(row: NotificationPreferences | None, timezone: str) -> Preferences:
    if row is None:
        return replace(DEFAULTS, timezone=timezone)
    return Preferences(**{name: getattr(row, name) for name in EDITABLE}, timezone=timezone)


def preferences_of(session: Session, user: User) -> Preferences:
    return _from_row(session.get(NotificationPreferences, user.id), user.timezone or DEFAULT_TIMEZONE)


def save(session: Session, user_id: int, **changes: bool | int) -> None:
    """Change some of a user's preferences; the others keep their value (or default).

    An upsert, so two first saves at the same time (the page and a one-click unsubscribe)
    cannot collide on the missing row.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not a notification preference: {sorted(unknown)}")
    if not 0 <= int(changes.get("digest_weekday", 0)) <= 6 or not 0 <= int(changes.get("digest_hour", 0)) <= 23:
        raise ValueError(f"weekday must be 0-6 and hour 0-23: {changes}")
    now = utcnow()
    defaults = {name: getattr(DEFAULTS, name) for name in EDITABLE}
    stmt = dialect_insert(session, NotificationPreferences).values(
        user_id=user_id, updated_at=now, **{**defaults, **changes}
    )
    session.execute(
        stmt.on_conflict_do_update(index_elements=["user_id"], set_={**changes, "updated_at": now}),
        execution_options={"synchronize_session": False},
    )
    # The ORM may hold the row from before; the next read must see the new values.
    session.get(NotificationPreferences, user_id, populate_existing=True)


def unsubscribe(session: Session, user_id: int, topic: Topic) -> None:
    save(session, user_id, **{f"{topic.value}_enabled": False})


# --- when the digest is due -------------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    """The user's time zone; one tzdata does not know falls back to Berlin, the default."""
    return zone_named(name, DEFAULT_TIMEZONE)


def _slot(prefs: Preferences, day: date) -> datetime:
    """The UTC instant at which ``day``'s digest hour begins on the user's wall clock.

    ``fold=0`` settles both DST edge cases: an hour skipped in spring (02:00 on the last Sunday
    of March in Berlin) is read with the offset before the change, which is the first instant
    after the gap (03:00 CEST); an hour that happens twice in autumn is its first occurrence.
    """
    return datetime.combine(day, time(prefs.digest_hour), tzinfo=zone(prefs.timezone)).astimezone(UTC)


def _due_day(prefs: Preferences, now_utc: datetime) -> date | None:
    """The user's local day whose digest hour is running now, if it is their digest weekday."""
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must be timezone-aware")
    today = now_utc.astimezone(zone(prefs.timezone)).date()
    # Yesterday too: an hour skipped at midnight moves the slot to the next local day.
    for day in (today - timedelta(days=1), today):
        if day.weekday() == prefs.digest_weekday:
            start = _slot(prefs, day)
            if start <= now_utc < start + timedelta(hours=1):
                return day
    return None


def due_for_digest(prefs: Preferences, now_utc: datetime) -> bool:
    """Whether the user's digest is due in the hour that contains ``now_utc``.

    True during exactly one real hour a week, from the moment the user's local clock shows the
    chosen weekday and hour — also in the weeks the clocks change, and in zones that are offset
    by half hours. So a scheduler must look at least once an hour (at any minute); looking
    more often is harmless because the send log's period (``digest_period``) keeps it to one mail.
    """
    return prefs.digest_enabled and _due_day(prefs, now_utc) is not None


def digest_period(prefs: Preferences, now_utc: datetime) -> str:
    """The send-log period of the digest due now: the ISO week of the user's local day, e.g. ``2026-W48``.

    One key per week whatever the weekday: moving the digest from Monday to Friday in the
    middle of a week does not send a second one.
    """
    day = _due_day(prefs, now_utc) or now_utc.astimezone(zone(prefs.timezone)).date()
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _digest_readers(
    session: Session, *criteria: ColumnElement[bool], order: Sequence[ColumnElement[Any]] = (User.id,)
) -> list[tuple[User, Preferences]]:
    """Users with the digest switched on, by id unless ``order`` says otherwise, with their preferences: one
    query however many."""
    rows = session.execute(
        select(User, NotificationPreferences)
        .outerjoin(NotificationPreferences, NotificationPreferences.user_id == User.id)
        .where(func.coalesce(NotificationPreferences.digest_enabled, DEFAULTS.digest_enabled), *criteria)
        .order_by(*order)
    ).all()
    return [(user, _from_row(row, user.timezone or DEFAULT_TIMEZONE)) for user, row in rows]


def digest_readers(session: Session, user_ids: list[int]) -> list[tuple[User, Preferences]]:
    """Those of these users who have the digest switched on, with their preferences (one query for a batch)."""
    return _digest_readers(session, User.id.in_(user_ids))


def every_digest_reader(session: Session) -> list[tuple[User, Preferences]]:
    """Every user with the digest switched on, with their preferences (one query)."""
    return _digest_readers(session)


def users_due_for_digest(
    session: Session, now_utc: datetime, order: Sequence[ColumnElement[Any]] = (User.id,)
) -> list[tuple[User, Preferences]]:
    """Every user whose digest is due now, with their preferences, by id unless ``order`` says otherwise (one
    query, the time check in Python)."""
    return [(user, prefs) for user, prefs in _digest_readers(session, order=order) if due_for_digest(prefs, now_utc)]
