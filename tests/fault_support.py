"""Servers the fault tests may break: a private Redis on a free loopback port (never the shared one, which
other test runs use), and an SMTP handler that holds every message before its answer, so a test can kill
the sending worker while a message is in flight."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.smtp_support import Handler

SERVER_START = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrivateRedis:
    """A ``redis-server`` of this test alone, without persistence: ``stop()`` loses everything in it, as an
    outage of a cache-and-broker Redis would; ``start()`` brings it back empty on the same port."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with (self.directory / f"redis-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(command, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + SERVER_START
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None


@contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        from tests.conftest import service_missing

        service_missing("redis-server (the binary, for a private Redis)")
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class HoldingHandler(Handler):
    """Answers DATA only after ``hold`` seconds. A client that disconnects meanwhile never got its 250: the
    message is counted in ``discarded``, not delivered, as a server that had not taken it over would do.
    ``in_data`` counts the messages that reached DATA."""

    hold: float = 1.0
    in_data: int = 0
    discarded: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.in_data += 1
        try:
            await asyncio.sleep(self.hold)
        except asyncio.CancelledError:
            self.discarded += 1
            raise
        return await super().handle_DATA(server, session, envelope)


def require_services(databases: dict[str, str]) -> None:
    """The fault tests need PostgreSQL (the send log's and outbox's row locks, several processes)."""
    from tests.conftest import service_missing

    if databases["kind"] != "postgresql":
        service_missing("PostgreSQL (fault tests run in the PostgreSQL+Redis stage)")


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker and its prefork children: no shutdown, no acknowledgement, no cleanup."""
    import os
    import signal

    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
