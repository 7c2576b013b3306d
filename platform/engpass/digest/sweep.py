"""The digest sweep: digests that were due in the last hours and that nothing has claimed.

The hourly round hands the due users to batch tasks through the broker. A batch that never runs — lost with a
Redis that restarted without persistence, or given up after its retries ran out before it claimed anything —
leaves no row in the send log, so neither its retry nor the resend sweep (which works from the send log's rows)
ever sends those digests. The sweep looks for exactly that: users whose digest hour lies in the last
``LOOKBACK`` hours, at least a grace period ago (so that it does not race the round's own batches still in the
queue), in the week that is still the reader's current one, and who have no digest row for that week. They go
to the same batch task with the hour they were due, so they get the week they were meant to get.

Idempotent with the round, its batches and another sweep: the send log's unique key (user, digest, week)
keeps each digest to one e-mail, and a live claim of a running batch is never taken over.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.digest.sending import KIND_PREFIX, batches
from engpass.notifications.models import SendLog
from engpass.notifications.preferences import digest_period, due_for_digest, every_digest_reader

# How far back the sweep looks for a due hour. Every reader is due one hour a week, so a day covers an outage
# overnight; what is older than the reader's current week is never sent (the next week's digest is coming).
LOOKBACK = timedelta(hours=24)
# Users per query for their send-log rows.
_CHUNK = 1000


def _hours(now: datetime, grace: timedelta) -> list[datetime]:
    """The starts of the hours to look at, the latest first: the round's moments (``sending.this_hour``)."""
    latest = (now - grace).replace(minute=0, second=0, microsecond=0)
    count = int(LOOKBACK / timedelta(hours=1))
    return [latest - timedelta(hours=n) for n in range(count)]


def unclaimed_due(session: Session, now: datetime, grace: timedelta) -> dict[datetime, list[int]]:
    """The users whose digest was due and has no send-log row, by the hour it was due (the batch's moment)."""
    hours = _hours(now, grace)
    due: dict[int, tuple[datetime, str]] = {}
    for user, prefs in every_digest_reader(session):
        hour = next((hour for hour in hours if due_for_digest(prefs, hour)), None)
        if hour is None:
            continue
        period = digest_period(prefs, hour)
        # A digest of a week that is over in the reader's zone stays unsent: it would arrive as last week's.
        if period == digest_period(prefs, now):
            due[user.id] = (hour, period)
    ids = sorted(due)
    periods = sorted({period for _hour, period in due.values()})
    claimed: set[tuple[int, str]] = set()
    for chunk in batches(ids, _CHUNK):
        rows = session.execute(
            select(SendLog.user_id, SendLog.period).where(
                SendLog.user_id.in_(chunk),
                SendLog.kind.startswith(KIND_PREFIX, autoescape=True),
                SendLog.period.in_(periods),
            )
        )
        claimed.update((user_id, period) for user_id, period in rows)
    found: dict[datetime, list[int]] = defaultdict(list)
    for user_id in ids:
        hour, period = due[user_id]
        if (user_id, period) not in claimed:
            found[hour].append(user_id)
    return dict(found)
