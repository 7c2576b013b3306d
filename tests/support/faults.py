"""Servers the fault tests may break: a private Redis on a free loopback port (never the shared one, which
other test runs use), and an SMTP handler that holds every message before its answer, so a test can kill
the sending worker while a message is in flight."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import text

from engpass.cli.db import alembic_config
from engpass.db import make_engine
from engpass.roles import grant_app_role
from tests.support.smtp import Handler

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
        from tests.support.services import service_missing

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
    from tests.support.services import service_missing

    if databases["kind"] != "postgresql":
        service_missing("PostgreSQL (fault tests run in the PostgreSQL+Redis stage)")


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker and its prefork children: no shutdown, no acknowledgement, no cleanup."""
    import signal

    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _postgres_bin(name: str) -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return found[-1] if found else None


@dataclass
class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free loopback port, trust authentication, ``fsync`` off (nothing in
    it must survive the machine). initdb refuses root: as root the cluster belongs to the ``postgres`` user."""

    directory: Path
    port: int = field(default_factory=free_port)

    def url(self, database: str = "postgres", user: str = "postgres", password: str = "") -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{user}{secret}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=timeout)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(
            str(_postgres_bin("initdb")),
            "-D",
            str(self.directory / "data"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale",
            "C.UTF-8",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(_postgres_bin("pg_ctl")),
            "-D",
            str(self.directory / "data"),
            "-o",
            options,
            "-l",
            str(self.directory / "server.log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def migrated_database(self, app_role: str = "engpass_app", app_password: str = "app-secret") -> tuple[str, str]:
        """A database ``engpass`` at the migrations' head with the app's role, as a deployment has it: the
        owner's URL and the app role's."""
        admin = make_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE engpass"))
        admin.dispose()
        owner_url = self.url("engpass")
        command.upgrade(alembic_config(owner_url), "head")
        owner = make_engine(owner_url)
        with owner.begin() as conn:
            grant_app_role(conn, app_role, app_password)
        owner.dispose()
        return owner_url, self.url("engpass", app_role, app_password)

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session (what a restart does to the app's pooled connections)."""
        self._run(
            str(_postgres_bin("pg_ctl")), "-D", str(self.directory / "data"), "-m", mode, "-w", "-t", "30", "stop"
        )


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    import tempfile

    if _postgres_bin("initdb") is None or (os.geteuid() == 0 and not _has_user("postgres")):
        from tests.support.services import service_missing

        service_missing("the PostgreSQL server binaries (initdb, pg_ctl) for a private cluster")
    # Not pytest's tmp_path: the postgres user must be able to reach it.
    directory = Path(tempfile.mkdtemp(prefix="engpass-fault-pg-"))
    directory.chmod(0o755)
    server = PrivatePostgres(directory)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with suppress(subprocess.SubprocessError):
            server.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
