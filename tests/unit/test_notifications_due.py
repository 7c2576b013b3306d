"""When the weekly digest is due: the user's weekday and hour on their own clock, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engpass.notifications import preferences
from engpass.notifications.preferences import Preferences, digest_period, due_for_digest, users_due_for_digest

MONDAY, SUNDAY = 0, 6


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def due_windows(prefs: Preferences, start: datetime, days: int = 8, step: int = 5) -> list[tuple[datetime, datetime]]:
    """Every stretch of ``now`` (sampled every ``step`` minutes) for which the digest is due."""
    windows: list[tuple[datetime, datetime]] = []
    now, end = start, start + timedelta(days=days)
    while now < end:
        if due_for_digest(prefs, now):
            if windows and windows[-1][1] == now:
                windows[-1] = (windows[-1][0], now + timedelta(minutes=step))
            else:
                windows.append((now, now + timedelta(minutes=step)))
        now += timedelta(minutes=step)
    return windows


# (zone, a week containing a DST change or none, weekday, hour, the UTC start of the one due hour)
CASES = [
    # Berlin, spring: Sunday 29 March 2026, 02:00 CET does not exist; the digest comes at 03:00 CEST.
    ("Europe/Berlin", utc(2026, 3, 26), SUNDAY, 2, utc(2026, 3, 29, 1)),
    ("Europe/Berlin", utc(2026, 3, 26), SUNDAY, 3, utc(2026, 3, 29, 1)),
    ("Europe/Berlin", utc(2026, 3, 26), SUNDAY, 1, utc(2026, 3, 29, 0)),
    ("Europe/Berlin", utc(2026, 3, 26), MONDAY, 7, utc(2026, 3, 30, 5)),  # CEST: UTC+2
    ("Europe/Berlin", utc(2026, 3, 19), MONDAY, 7, utc(2026, 3, 23, 6)),  # CET: UTC+1
    # Berlin, autumn: Sunday 25 October 2026, 02:00-03:00 happens twice; only the first counts.
    ("Europe/Berlin", utc(2026, 10, 22), SUNDAY, 2, utc(2026, 10, 25, 0)),
    ("Europe/Berlin", utc(2026, 10, 22), SUNDAY, 3, utc(2026, 10, 25, 2)),
    ("Europe/Berlin", utc(2026, 10, 22), MONDAY, 7, utc(2026, 10, 26, 6)),
    ("Europe/Berlin", utc(2026, 10, 22), SUNDAY, 0, utc(2026, 10, 24, 22)),
    # New York: 8 March and 1 November 2026.
    ("America/New_York", utc(2026, 3, 5), SUNDAY, 2, utc(2026, 3, 8, 7)),
    ("America/New_York", utc(2026, 3, 5), MONDAY, 7, utc(2026, 3, 9, 11)),  # EDT: UTC-4
    ("America/New_York", utc(2026, 10, 29), SUNDAY, 1, utc(2026, 11, 1, 5)),  # 01:00 EDT, not 01:00 EST
    ("America/New_York", utc(2026, 10, 29), MONDAY, 7, utc(2026, 11, 2, 12)),  # EST: UTC-5
    # Kolkata: UTC+5:30 all year, so the due hour starts at half past in UTC.
    ("Asia/Kolkata", utc(2026, 11, 26), MONDAY, 7, utc(2026, 11, 30, 1, 30)),
    ("Asia/Kolkata", utc(2026, 11, 26), MONDAY, 0, utc(2026, 11, 29, 18, 30)),  # Sunday in UTC
    # Auckland: UTC+13 in summer, so Monday morning there is Sunday in UTC; DST ends 5 April, starts 27 September.
    ("Pacific/Auckland", utc(2026, 11, 26), MONDAY, 7, utc(2026, 11, 29, 18)),
    ("Pacific/Auckland", utc(2026, 4, 1), SUNDAY, 2, utc(2026, 4, 4, 13)),  # first 02:00, NZDT
    ("Pacific/Auckland", utc(2026, 4, 1), MONDAY, 7, utc(2026, 4, 5, 19)),  # NZST: UTC+12
    ("Pacific/Auckland", utc(2026, 9, 24), SUNDAY, 2, utc(2026, 9, 26, 14)),  # 02:00 NZST skipped: 03:00 NZDT
]


@pytest.mark.parametrize(("tz", "week", "weekday", "hour", "start"), CASES)
def test_due_exactly_one_real_hour_a_week_from_the_local_weekday_and_hour(tz, week, weekday, hour, start):
    prefs = Preferences(digest_weekday=weekday, digest_hour=hour, timezone=tz)
    assert due_windows(prefs, week) == [(start, start + timedelta(hours=1))]


@pytest.mark.parametrize(("tz", "week", "weekday", "hour", "start"), CASES)
def test_the_local_clock_shows_the_chosen_hour_or_the_first_one_after_a_gap(tz, week, weekday, hour, start):
    local = start.astimezone(ZoneInfo(tz))
    assert local.weekday() == weekday
    assert local.hour == hour or (local.hour == hour + 1 and local.minute == 0), local


def test_every_hour_of_every_weekday_is_due_once_in_a_week_with_both_dst_changes_nearby():
    """Brute force over a whole year in Berlin: each (weekday, hour) gets one hour per week, 52 or 53 times."""
    for hour in (0, 1, 2, 3, 7, 23):
        prefs = Preferences(digest_weekday=SUNDAY, digest_hour=hour, timezone="Europe/Berlin")
        windows = due_windows(prefs, utc(2026, 1, 1), days=365, step=30)
        assert len(windows) == 52, hour
        assert all(end - begin == timedelta(hours=1) for begin, end in windows), hour


def test_a_scheduler_running_on_the_full_utc_hour_catches_half_hour_zones():
    prefs = Preferences(digest_weekday=MONDAY, digest_hour=7, timezone="Asia/Kolkata")
    full_hours = [utc(2026, 11, 29, 12) + timedelta(hours=h) for h in range(36)]
    assert [t for t in full_hours if due_for_digest(prefs, t)] == [utc(2026, 11, 30, 2)]  # 07:30 IST


def test_the_period_is_the_iso_week_of_the_users_own_day():
    auckland = Preferences(digest_weekday=MONDAY, digest_hour=7, timezone="Pacific/Auckland")
    now = utc(2026, 11, 29, 18, 10)  # Sunday in UTC (week 48), Monday 30 November in Auckland (week 49)
    assert due_for_digest(auckland, now)
    assert digest_period(auckland, now) == "2026-W49"
    berlin = Preferences(timezone="Europe/Berlin")
    assert digest_period(berlin, utc(2026, 11, 30, 6, 5)) == "2026-W49"
    # The year of the ISO week, not of the date: Monday 29 December 2025 opens 2026-W01.
    assert digest_period(berlin, utc(2025, 12, 29, 6, 30)) == "2026-W01"


def test_a_switched_off_digest_is_never_due():
    prefs = Preferences(digest_enabled=False, timezone="Europe/Berlin")
    assert due_windows(prefs, utc(2026, 11, 26)) == []


def test_an_unknown_time_zone_falls_back_to_berlin():
    assert due_for_digest(Preferences(timezone="Mars/Olympus_Mons"), utc(2026, 11, 30, 6, 30))
    assert preferences.zone("") == ZoneInfo("Europe/Berlin")


def test_now_must_carry_its_time_zone():
    with pytest.raises(ValueError, match="timezone-aware"):
        due_for_digest(Preferences(), datetime(2026, 11, 30, 6, 30))


def test_users_due_for_digest_reads_preferences_and_time_zones(session, make_user):
    make_user(name="Berlin")  # no row: defaults, Monday 07:00
    new_york = make_user(name="New York")
    new_york.timezone = "America/New_York"
    off = make_user(name="Off")
    friday = make_user(name="Friday")
    session.commit()
    preferences.save(session, off.id, digest_enabled=False)
    preferences.save(session, friday.id, digest_weekday=4, digest_hour=16)
    session.commit()

    def due_at(now: datetime) -> list[str]:
        return [user.name for user, _prefs in users_due_for_digest(session, now) if user.name in names]

    names = {"Berlin", "New York", "Off", "Friday"}
    assert due_at(utc(2026, 11, 30, 6, 15)) == ["Berlin"]
    assert due_at(utc(2026, 11, 30, 12, 15)) == ["New York"]
    assert due_at(utc(2026, 12, 4, 15, 15)) == ["Friday"]
    ((_user, prefs),) = [p for p in users_due_for_digest(session, utc(2026, 11, 30, 12, 15)) if p[0].id == new_york.id]
    assert prefs == Preferences(timezone="America/New_York")
