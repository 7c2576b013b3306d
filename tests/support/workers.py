"""Real worker processes for the tests: celery --app workers worker on Redis or the embedded broker,
a queue of a test's own, and waiting for what a worker does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar
from uuid import uuid4

import pytest

from engpass.outbox.publisher import CeleryPublisher
from engpass.settings import REPO_ROOT

T = TypeVar("T")
# Starting takes a few seconds (the app is built, the broker connected); a loaded machine needs more.
WORKER_START = 60.0
WORKER_RUN = 30.0


def wait_for(check: Callable[[], T], what: str, timeout: float = WORKER_RUN, worker: Worker | None = None) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if worker is not None and worker.process.poll() is not None:
            pytest.fail(f"the worker exited with {worker.process.returncode} while waiting for {what}\n{worker.tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{worker.tail() if worker else ''}")
        time.sleep(0.2)


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path
    outbox: Path

    def tail(self) -> str:
        return "--- worker log ---\n" + (self.log.read_text()[-4000:] if self.log.exists() else "(none)")

    def wait_until_ready(self) -> None:
        wait_for(lambda: " ready." in self.log.read_text(), "the worker to start", WORKER_START, self)

    def mails(self) -> list[EmailMessage]:
        return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(self.outbox.glob("*.eml"))]

    def successes(self, task_id: str) -> list[str]:
        """The results logged for ``task_id``, one per delivery that finished."""
        marker = f"[{task_id}] succeeded in "
        return [line.rsplit(": ", 1)[-1] for line in self.log.read_text().splitlines() if marker in line]


@contextmanager
def running_worker(
    tmp_path: Path,
    databases: dict[str, str],
    *,
    redis_url: str = "",
    queue: str = "celery",
    pool: str = "solo",
    smtp_url: str = "",
    name: str = "worker",
    settings: dict[str, str] | None = None,
) -> Iterator[Worker]:
    """``celery --app workers worker`` as a child process, configured only through ``ENGPASS_*``; ``name``
    keeps the folders of several workers of one test apart; ``settings``: more ``ENGPASS_*`` variables."""
    instance = tmp_path / f"{name}-instance"
    log = tmp_path / f"{name}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGPASS_")}
    env.update(
        ENGPASS_DATABASE_URL=databases["app"],
        ENGPASS_MIGRATION_DATABASE_URL=databases["owner"],
        ENGPASS_REDIS_URL=redis_url,
        ENGPASS_INSTANCE_DIR=str(instance),
        ENGPASS_SECRET_KEY="x",
        ENGPASS_SMTP_URL=smtp_url,
        ENGPASS_BASE_URL="http://engpass.test",
    )
    env.update(settings or {})
    command = [
        sys.executable,
        "-m",
        "celery",
        "--app",
        "workers",
        "worker",
        "--pool",
        pool,
        "--concurrency",
        "2",
        "--queues",
        queue,
        "--hostname",
        f"{name}.{queue}@%h",
        # Workers of parallel test runs on the same Redis must not talk to each other.
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        "--loglevel",
        "INFO",
    ]
    with log.open("wb") as out:
        # A session of its own, so that the prefork children can be ended with their parent.
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    worker = Worker(process=process, log=log, outbox=instance / "outbox")
    try:
        worker.wait_until_ready()
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def private_queue(redis_url: str) -> Iterator[tuple[str, CeleryPublisher]]:
    """A queue of its own and a publisher for it: parallel test runs share the Redis database."""
    import redis

    queue = f"engpass-test-{uuid4().hex[:12]}"
    try:
        yield queue, CeleryPublisher(redis_url, queue=queue)
    finally:
        client = redis.Redis.from_url(redis_url)
        # The queue and Kombu's bindings for it (kombu 5.7 keeps a second set, _kombu.binding_permanent.<queue>);
        # the name is unique to this test.
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
        client.close()


@contextmanager
def worker_on_private_queue(
    tmp_path: Path, databases: dict[str, str], redis_url: str, *, pool: str = "solo"
) -> Iterator[tuple[Worker, CeleryPublisher]]:
    """A worker on Redis that reads only a queue of its own, and the publisher for that queue."""
    with (
        private_queue(redis_url) as (queue, publish),
        running_worker(tmp_path, databases, redis_url=redis_url, queue=queue, pool=pool) as worker,
    ):
        yield worker, publish
