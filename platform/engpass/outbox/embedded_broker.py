"""Housekeeping for the embedded broker: Kombu's SQLAlchemy transport on an SQLite file, used when no Redis
is configured (``make run``).

Kombu keeps every message it handed out, marked invisible, for ever; with the outbox sweep every 30 seconds
a development machine left running for weeks grows that file by megabytes a day. ``delete_delivered``
removes what was handed out more than ``KEEP_DELIVERED`` ago (beat, hourly); SQLite reuses the freed pages,
so the file stops growing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Boolean, DateTime, column, create_engine, delete, inspect, table
from sqlalchemy.pool import NullPool

from engpass.outbox.publisher import SQLA_PREFIXES

# Long enough that nobody looking into the file for a just-run task finds it gone already.
KEEP_DELIVERED = timedelta(hours=1)
# Kombu's default table; the platform sets no other name.
MESSAGES = table("kombu_message", column("visible", Boolean), column("timestamp", DateTime))


def is_embedded(broker_url: str) -> bool:
    return broker_url.startswith(SQLA_PREFIXES)


def delete_delivered(broker_url: str, keep: timedelta = KEEP_DELIVERED, now: datetime | None = None) -> int:
    """Delete the messages handed out before ``now - keep``; waiting ones stay. Returns how many went."""
    if not is_embedded(broker_url):
        return 0
    # The worker polls the same file: wait for its lock rather than fail.
    engine = create_engine(broker_url.split("+", 1)[1], poolclass=NullPool, connect_args={"timeout": 30})
    try:
        with engine.begin() as conn:
            if not inspect(conn).has_table(MESSAGES.name):
                return 0
            # Kombu stamps a message with its local, naive time when it hands it out (the column's onupdate).
            cutoff = (now or datetime.now()) - keep
            result = conn.execute(delete(MESSAGES).where(MESSAGES.c.visible.is_(False), MESSAGES.c.timestamp < cutoff))
            return result.rowcount
    finally:
        engine.dispose()
