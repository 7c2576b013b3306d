"""A company's week for the digest tests: the scaled quoting cycle and its trend snapshots, and the default slot
whose week holds what the fixtures make now."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engpass import tenancy
from engpass.trends import service as trends
from tests.support.cycles import scaled_quoting_cycle

BERLIN = ZoneInfo("Europe/Berlin")


def monday_7() -> datetime:
    """The next Monday, 07:00 in Berlin (the default digest slot), after today in Berlin, in UTC: its digest
    describes the week the fixtures date their cycles in, whatever day the suite runs. Called per test so a
    run that crosses midnight keeps the two together."""
    today = datetime.now(BERLIN).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime.combine(monday, time(7), tzinfo=BERLIN).astimezone(UTC)


def described_week(slot: datetime) -> tuple[date, date]:
    """Monday and Sunday of the week a digest sent at ``slot`` (a Monday in Berlin) describes."""
    monday = slot.astimezone(BERLIN).date()
    return monday - timedelta(days=7), monday - timedelta(days=1)


def period(slot: datetime) -> str:
    """The send log's period for a digest sent at ``slot``: the ISO week it is sent in."""
    year, week, _ = slot.astimezone(BERLIN).date().isocalendar()
    return f"{year}-W{week:02d}"


def scaled_cycle_with_trends(session, org, owner):
    """The scaled quoting cycle in ``org`` and the weekly snapshots it makes, committed."""
    with tenancy.tenant_context(session, org.id):
        scaled_quoting_cycle(session, owner)
        trends.recompute(session, full=True)
        session.commit()
