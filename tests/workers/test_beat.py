"""Two schedulers by mistake send each periodic run once (workers/beat.py): real `celery beat` processes on a
Redis of this test alone, the messages they put on the broker counted. Without Redis, a second scheduler on
the same schedule file refuses to start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery.beat import ScheduleEntry
from celery.schedules import crontab, schedule

from engpass import task_names
from tests.support.faults import private_redis
from workers.beat import AnotherSchedulerRuns, SingleSendScheduler, run_key
from workers.celery_app import RESEND_INTERVAL, SWEEP_INTERVAL

# Beat sends an interval entry first one interval after it starts. The second beat starts a few seconds
# later, so the two would send the sweep at different moments — not on one clock slot.
STAGGER = 5
RUN_FOR = STAGGER + SWEEP_INTERVAL + 8


def _beat(tmp_path: Path, databases: dict[str, str], redis_url: str, name: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGPASS_")}
    env.update(
        ENGPASS_DATABASE_URL=databases["app"],
        ENGPASS_REDIS_URL=redis_url,
        ENGPASS_INSTANCE_DIR=str(tmp_path / f"{name}-instance"),
        ENGPASS_SECRET_KEY="beat-test",
    )
    command = [sys.executable, "-m", "celery", "--app", "workers", "beat", "--loglevel", "INFO"]
    command += ["--schedule", str(tmp_path / f"{name}-schedule")]
    with (tmp_path / f"{name}.log").open("wb") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _sent(redis_url: str) -> list[str]:
    client = redis.Redis.from_url(redis_url)
    try:
        return [json.loads(raw)["headers"]["task"] for raw in client.lrange("celery", 0, -1)]
    finally:
        client.close()


def test_two_beats_on_redis_send_each_run_once(tmp_path, databases, redis_url):
    # redis_url: this takes 40 s, so it runs in the stage with Redis; the beats get a Redis of their own.
    with ExitStack() as stack:
        server = stack.enter_context(private_redis(tmp_path))
        beats = [_beat(tmp_path, databases, server.url, "beat-a")]
        try:
            time.sleep(STAGGER)
            beats.append(_beat(tmp_path, databases, server.url, "beat-b"))
            time.sleep(RUN_FOR - STAGGER)
        finally:
            for beat in beats:
                os.killpg(beat.pid, signal.SIGTERM)
                beat.wait(timeout=30)
        sent = _sent(server.url)
    logs = "".join((tmp_path / f"{name}.log").read_text() for name in ("beat-a", "beat-b"))
    # Each beat found the sweep due once; one of them sent it.
    assert logs.count("Sending due task outbox-sweep") == 1, logs
    assert logs.count("outbox-sweep was sent by another scheduler") == 1, logs
    # A crontab entry (the reminders at minute 7, the digest round at minute 1, …) may come due while the two
    # run, depending on the clock: then it too is on the broker exactly once.
    assert sent.count(task_names.OUTBOX_SWEEP) == 1, sent
    assert len(sent) == len(set(sent)), sent


def _entry(celery, name: str, every: schedule | crontab) -> ScheduleEntry:
    return ScheduleEntry(name=name, task=task_names.OUTBOX_SWEEP, schedule=every, app=celery)


def test_crontab_runs_share_a_key_per_minute_and_interval_runs_hold_it_most_of_the_interval(celery):
    nightly = _entry(celery, "trends-nightly", crontab(hour=2, minute=15))
    sweep = _entry(celery, "outbox-sweep", schedule(timedelta(seconds=SWEEP_INTERVAL)))
    at = 1_764_987_300.0  # 2025-12-06T02:15:00Z
    assert run_key(nightly, at) == run_key(nightly, at + 40)
    assert run_key(nightly, at)[0] != run_key(nightly, at + 60)[0]
    key, lifetime_ms = run_key(sweep, at)
    assert key == "engpass:beat:outbox-sweep" and lifetime_ms == SWEEP_INTERVAL * 900
    assert run_key(_entry(celery, "mail-resend", schedule(timedelta(seconds=RESEND_INTERVAL))), at)[1] < 300_000


def test_without_redis_a_second_beat_on_the_same_schedule_file_refuses_to_start(celery, tmp_path):
    assert not celery.flask_app.extensions["engpass.settings"].redis_url
    filename = str(tmp_path / "celerybeat-schedule")
    first = SingleSendScheduler(app=celery, schedule_filename=filename, lazy=False)
    try:
        with pytest.raises(AnotherSchedulerRuns, match="run exactly one"):
            SingleSendScheduler(app=celery, schedule_filename=filename, lazy=False)
    finally:
        first.close()
    SingleSendScheduler(app=celery, schedule_filename=filename, lazy=False).close()
