"""The scheduler: Celery beat that sends each run of a periodic task once, however many beats run.

Two beats by mistake (a second `docker compose up --scale`, a rollout overlapping the old pod, two
machines with the same Procfile) each keep their own schedule and would send every periodic task twice.
With Redis, each run is claimed before it is sent with ``SET NX``: a crontab entry's key names the minute
it is due (every beat computes the same one), an interval entry's key lives 90 % of its interval (the
beats started at different moments, so their runs of one entry never line up on a clock). Of two beats
exactly one sends each run, whichever ticks first; the other stays a warm standby and takes over within
one interval when the first stops. The embedded
default (no Redis) runs on one machine: there a second beat on the same schedule file refuses to start.
"""

from __future__ import annotations

import fcntl
import logging
import math
import time
from typing import IO, Any

import redis
from celery.beat import PersistentScheduler, ScheduleEntry
from celery.schedules import crontab

log = logging.getLogger(__name__)

# A crontab entry's slot lives an hour: far longer than two beats' clocks or ticks drift apart.
CRONTAB_SLOT_TTL = 3600


class AnotherSchedulerRuns(RuntimeError):
    """A second beat on the same schedule file without Redis to share the work through."""


def run_key(entry: ScheduleEntry, now: float) -> tuple[str, int]:
    """The Redis key that stands for the run of ``entry`` due at ``now`` (epoch seconds), and its lifetime
    in milliseconds."""
    if isinstance(entry.schedule, crontab):
        minute = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(now))
        return f"engpass:beat:{entry.name}:{minute}", CRONTAB_SLOT_TTL * 1000
    interval_ms = entry.schedule.run_every.total_seconds() * 1000
    return f"engpass:beat:{entry.name}", max(1, math.floor(interval_ms * 0.9))


class SingleSendScheduler(PersistentScheduler):
    """``PersistentScheduler`` whose every due run is sent by one beat only (see the module)."""

    _lock_file: IO[str] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._redis_url: str = kwargs["app"].flask_app.extensions["engpass.settings"].redis_url
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        if not self._redis_url:
            self._hold_the_schedule_file()
        super().setup_schedule()

    def _hold_the_schedule_file(self) -> None:
        handle = open(f"{self.schedule_filename}.lock", "w")  # noqa: SIM115 - held for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AnotherSchedulerRuns(
                f"another scheduler runs with {self.schedule_filename}; run exactly one "
                "(or set ENGPASS_REDIS_URL, with which several send each run once)"
            ) from None
        self._lock_file = handle

    def apply_entry(self, entry: ScheduleEntry, producer: Any = None) -> None:
        if self.first_to_send(entry, time.time()):
            super().apply_entry(entry, producer=producer)
        else:
            log.info("Scheduler: %s was sent by another scheduler", entry.name)

    def first_to_send(self, entry: ScheduleEntry, now: float) -> bool:
        """Whether this beat sends the run of ``entry`` due at ``now``; always, without Redis."""
        if not self._redis_url:
            return True
        key, lifetime_ms = run_key(entry, now)
        client = redis.Redis.from_url(self._redis_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            return bool(client.set(key, "1", nx=True, px=lifetime_ms))
        except redis.RedisError:
            # The broker is this Redis: without it nothing can be sent anyway, and Celery reports that.
            return True
        finally:
            client.close()

    def close(self) -> None:
        super().close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
