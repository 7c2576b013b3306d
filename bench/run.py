"""``make bench``: load N organizations, let the real workers recompute their trends, load-test the web.

Runs on a fresh clone: PostgreSQL when ``ENGPASS_TEST_DATABASE_URL`` is set (a database
``engpass_bench_<pid>`` of its own, migrated as the owner, the app connected as a role of its
own under row-level security), SQLite otherwise; Redis as the broker when one answers (a
database number no other run holds), else the embedded SQLite broker. Two runs at once keep
out of each other's way, though their figures suffer from sharing the machine. Ends with
one ``NAME=VALUE`` line per figure on stdout (progress goes to stderr) and removes
everything it started or created. docs/performance.md says what each figure means.

Knobs (environment): BENCH_ORGS (1000), BENCH_CYCLES (20), BENCH_MEASUREMENTS (30),
BENCH_DURATION seconds per wrk run (10), BENCH_CONNECTIONS (16), BENCH_THREADS (2),
BENCH_WORKERS gunicorn workers (2), BENCH_CONCURRENCY Celery processes (2),
BENCH_DIGESTS weekly digests sent to a local SMTP sink by one worker process (10000) with
Celery's BENCH_DIGEST_POOL (solo; or threads, BENCH_DIGEST_THREADS of them, 2), then again by the deployed
worker (prefork, BENCH_CONCURRENCY processes),
BENCH_PORTFOLIO_CLIENTS clients of the benchmark consultancy (200),
BENCH_LOAD_SECONDS of mixed traffic (dashboards, cycle pages and edits, measurements, API; 180),
BENCH_REDIS_URL (else the first free of redis://127.0.0.1:6379/14, 11, 10, … if it answers), BENCH_KEEP=1 keeps the
database and the work folder for a look afterwards.
"""

from __future__ import annotations

import http.cookiejar
import math
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# The code of this checkout, first on every process's path: the virtualenv's editable install may point at
# another checkout (a git worktree), and the benchmark measures the code it lives in.
IMPORT_ROOTS = [str(REPO / "platform"), str(REPO)]
BIN = Path(sys.executable).parent
DB_NAME = f"engpass_bench_{os.getpid()}"
APP_ROLE = f"engpass_bench_app_{os.getpid()}"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
# Redis databases a run may take, first free first; 12, 13 and 15 are the test suites'.
REDIS_DATABASES = (14, 11, 10, 9, 8)
# Held in the Redis database a run uses, so a second run picks another; expires if a run is killed.
REDIS_CLAIM_KEY = "engpass-bench:run"
REDIS_CLAIM_SECONDS = 6 * 3600
USER_AGENT = "engpass-bench"
# Several organizations per wrk run, so the dashboard figure is not one organization's cached rows.
DASHBOARD_ORGS = 8
RECOMPUTE_ONE_RUNS = 50
# The nightly run's share of organizations with a change it must catch up with (at least one).
NIGHTLY_CHANGED_EVERY = 100
UNCACHED_DASHBOARD_RUNS = 200
RECOMPUTE_ALL_TIMEOUT = 1800
DIGEST_TIMEOUT = 1800
# With no new message at the sink for this long, the digests are not coming (see the send log).
DIGEST_STALL_TIMEOUT = 120
STATEMENT_PLUMBING = re.compile(r"\s*(SAVEPOINT|RELEASE|ROLLBACK TO|BEGIN|SELECT set_config)", re.IGNORECASE)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass
class Bench:
    orgs: int = field(default_factory=lambda: env_int("BENCH_ORGS", 1000))
    cycles: int = field(default_factory=lambda: env_int("BENCH_CYCLES", 20))
    measurements: int = field(default_factory=lambda: env_int("BENCH_MEASUREMENTS", 30))
    duration: int = field(default_factory=lambda: env_int("BENCH_DURATION", 10))
    connections: int = field(default_factory=lambda: env_int("BENCH_CONNECTIONS", 16))
    threads: int = field(default_factory=lambda: env_int("BENCH_THREADS", 2))
    web_workers: int = field(default_factory=lambda: env_int("BENCH_WORKERS", 2))
    concurrency: int = field(default_factory=lambda: env_int("BENCH_CONCURRENCY", 2))
    digests: int = field(default_factory=lambda: env_int("BENCH_DIGESTS", 10000))
    digest_pool: str = field(default_factory=lambda: os.environ.get("BENCH_DIGEST_POOL", "solo"))
    digest_threads: int = field(default_factory=lambda: env_int("BENCH_DIGEST_THREADS", 2))
    keep: bool = field(default_factory=lambda: os.environ.get("BENCH_KEEP") == "1")
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="engpass-bench-")))
    env: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    admin_url: str = ""  # PostgreSQL only: the server URL the database is created with
    owner_url: str = ""
    app_url: str = ""
    broker_url: str = ""


# --- setup -------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing: apt-get install -y wrk")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    install = [*sudo, "apt-get", "install", "-y", "-q", "wrk"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # apt's chatter goes to stderr: stdout is for the figures.
    if subprocess.run(install, env=env, check=False, stdout=sys.stderr).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, check=True, stdout=sys.stderr)
        subprocess.run(install, env=env, check=True, stdout=sys.stderr)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk could not be installed; install it and run again")
    return found


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def claim_redis_database(base: str = DEFAULT_REDIS) -> str:
    """A Redis database of the local server that no other benchmark run holds, claimed for this one; "" if none.

    A claim whose run is gone (killed, or a script that claimed and never released) is taken over: left to
    expire, five of them put every later run on the embedded broker, without the page cache."""
    import redis

    for number in REDIS_DATABASES:
        url = f"{base}/{number}"
        if not redis_answers(url):
            return ""
        client = redis.Redis.from_url(url)
        if client.set(REDIS_CLAIM_KEY, str(os.getpid()), nx=True, ex=REDIS_CLAIM_SECONDS):
            return url
        if _take_over_stale_claim(client):
            return url
    log(f"every benchmark Redis database {REDIS_DATABASES} is held by a running run: the embedded broker it is")
    return ""


def _take_over_stale_claim(client: Any) -> bool:
    """Claim the database if its holder's process no longer runs; exactly one of several runs trying wins."""
    import redis

    with client.pipeline() as pipe:
        try:
            pipe.watch(REDIS_CLAIM_KEY)
            holder = pipe.get(REDIS_CLAIM_KEY)
            if holder is not None and process_runs(int(holder)):
                return False
            pipe.multi()
            pipe.set(REDIS_CLAIM_KEY, str(os.getpid()), ex=REDIS_CLAIM_SECONDS)
            pipe.execute()
        except (redis.WatchError, ValueError):
            return False
    return True


def process_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_redis_database(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    if client.get(REDIS_CLAIM_KEY) == str(os.getpid()).encode():
        client.delete(REDIS_CLAIM_KEY)


def prepare_environment(bench: Bench) -> None:
    instance = bench.workdir / "instance"
    instance.mkdir(parents=True)
    given = os.environ.get("BENCH_REDIS_URL")
    bench.broker_url = (given if redis_answers(given) else "") if given else claim_redis_database()
    keep = {k: v for k, v in os.environ.items() if not k.startswith("ENGPASS_") and not k.startswith("GUNICORN_")}
    bench.env = {
        **keep,
        "PYTHONPATH": os.pathsep.join([*IMPORT_ROOTS, *filter(None, [os.environ.get("PYTHONPATH")])]),
        "ENGPASS_INSTANCE_DIR": str(instance),
        "ENGPASS_SECRET_KEY": secrets.token_urlsafe(32),
        "ENGPASS_RATE_LIMITS_ENABLED": "false",
        "ENGPASS_REDIS_URL": bench.broker_url,
        "PYTHONUNBUFFERED": "1",
    }
    bench.figures["broker"] = "redis" if bench.broker_url else "embedded-sqlite"


def prepare_database(bench: Bench) -> None:
    pg = os.environ.get("ENGPASS_TEST_DATABASE_URL", "")
    if not pg:
        url = f"sqlite:///{bench.workdir / 'instance' / 'engpass.sqlite3'}"
        bench.owner_url = bench.app_url = url
        bench.figures["database"] = "sqlite"
        run_engpass(bench, ["db", "upgrade"], database_url=url)
        return
    from sqlalchemy import create_engine, make_url, text

    from engpass.settings import normalize_database_url

    server = make_url(normalize_database_url(pg))
    bench.admin_url = server.render_as_string(hide_password=False)
    admin = create_engine(bench.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
        version = connection.execute(text("SHOW server_version")).scalar_one()
    admin.dispose()
    owner = server.set(database=DB_NAME)
    bench.owner_url = owner.render_as_string(hide_password=False)
    password = secrets.token_hex(12)
    bench.app_url = owner.set(username=APP_ROLE, password=password).render_as_string(hide_password=False)
    bench.figures["database"] = f"postgresql-{version.split()[0]}"
    run_engpass(bench, ["db", "upgrade"], database_url=bench.owner_url)
    run_engpass(
        bench, ["db", "create-app-role", "--name", APP_ROLE, "--password", password], database_url=bench.owner_url
    )


def app_env(bench: Bench, database_url: str | None = None) -> dict[str, str]:
    return {
        **bench.env,
        "ENGPASS_DATABASE_URL": database_url or bench.app_url,
        "ENGPASS_MIGRATION_DATABASE_URL": bench.owner_url,
    }


def run_engpass(bench: Bench, args: list[str], database_url: str | None = None) -> None:
    command = [str(BIN / "engpass"), *args]
    result = subprocess.run(command, env=app_env(bench, database_url), cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: engpass {' '.join(args[:2])}")
    for line in result.stdout.splitlines()[-3:]:
        log(f"  {line.strip()}")


def members_per_org(bench: Bench) -> int:
    """People besides the owner in each organization, so that there are enough readers for the digests."""
    return max(0, -(-bench.digests // bench.orgs) - 1)


def load_data(bench: Bench) -> None:
    members = members_per_org(bench)
    log(
        f"loading {bench.orgs} organizations × {bench.cycles} cycles × {bench.measurements} measurements,"
        f" {1 + members} people each"
    )
    started = time.perf_counter()
    scale = ["--scale", str(bench.orgs), "--cycles", str(bench.cycles), "--measurements", str(bench.measurements)]
    run_engpass(bench, ["demo", *scale, "--members", str(members)])
    bench.figures["load_s"] = round(time.perf_counter() - started, 1)


# --- processes -------------------------------------------------------------------------------------------


def start(
    bench: Bench, name: str, command: list[str], extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    logfile = open(bench.workdir / f"{name}.log", "wb")  # noqa: SIM115 (lives as long as the process)
    env = {**app_env(bench), **(extra_env or {})}
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
    )
    bench.processes.append(process)
    return process


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    # Each process runs in a session of its own: the signal reaches its children (pool, workers) too.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def wait_for_log(bench: Bench, name: str, pattern: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    path = bench.workdir / f"{name}.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.stderr.write(path.read_text(errors="replace")[-4000:])
            raise SystemExit(f"{name} exited with {process.returncode}")
        if re.search(pattern, path.read_text(errors="replace")):
            return
        time.sleep(0.2)
    raise SystemExit(f"{name} did not get ready in {timeout:.0f} s")


def process_tree(pid: int) -> list[int]:
    """The pid and its descendants, from /proc (no psutil needed)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def rss_mb(pid: int) -> float:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User plus system CPU time of each process that still exists."""
    seconds = {}
    for pid in pids:
        with suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return seconds


def database_backends(database: str) -> list[int]:
    """PostgreSQL backends serving ``database`` on this machine (their title names the database)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                words = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
                # "postgres: [cluster name:] user database host(port) state"
                if words and words[0] == "postgres:" and database in words[1:5]:
                    pids.append(int(entry.name))
    return pids


def machine_busy_seconds() -> float:
    """CPU time all cores spent on anything but idling, since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS


class CpuMeter:
    """CPU used by some processes over a stretch of time, and by the whole machine meanwhile: on a
    shared machine the wall times mean little without knowing how much CPU went elsewhere."""

    def __init__(self, pids: Any) -> None:
        self.pids = pids  # a callable returning the pids, called at start and stop
        self.start_cpu = cpu_seconds(pids())
        self.start_machine = machine_busy_seconds()

    def stop(self) -> tuple[float, float]:
        end = cpu_seconds(self.pids())
        used = sum(seconds - self.start_cpu.get(pid, 0.0) for pid, seconds in end.items())
        return used, machine_busy_seconds() - self.start_machine


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


class RssSampler(threading.Thread):
    """Peak RSS of a process tree, summed over its processes and of the largest single one; ``latest`` is the
    sum at the latest sample."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_total = 0.0
        self.peak_single = 0.0
        self.latest = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            sizes = [rss_mb(pid) for pid in process_tree(self.pid)]
            self.latest = sum(sizes)
            self.peak_total = max(self.peak_total, self.latest)
            self.peak_single = max([self.peak_single, *sizes])
            self._halt.wait(0.1)

    def stop(self) -> None:
        self._halt.set()
        self.join()


# --- trends: all organizations by the workers, one organization in-process ---------------------------------


def worker_command(concurrency: int, pool: str = "prefork") -> list[str]:
    from workers.celery_app import TASK_MODULES

    command = [
        str(BIN / "celery"),
        "--app",
        "workers",
        "worker",
        "--loglevel",
        "INFO",
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--hostname",
        f"bench-{os.getpid()}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if "workers.tasks.trends" not in TASK_MODULES:
        # Until the trend tasks are registered in the Celery app, bring them in from the command line.
        command += ["--include", "workers.tasks.trends"]
    return command


@contextmanager
def monitor_engine(bench: Bench) -> Iterator[Any]:
    """A connection that sees every organization's snapshots: the server's superuser on PostgreSQL, a plain
    SQLite connection otherwise (the platform's engine takes the write lock on every transaction)."""
    from sqlalchemy import create_engine, make_url

    if bench.admin_url:
        url = make_url(bench.admin_url).set(database=DB_NAME)
        engine = create_engine(url)
    else:
        engine = create_engine(bench.owner_url, connect_args={"timeout": 30})
    try:
        yield engine
    finally:
        engine.dispose()


def organizations_done(engine: Any, since: datetime) -> tuple[int, int]:
    """How many organizations have snapshots computed since ``since``, out of all of them."""
    from sqlalchemy import distinct, func, select

    from engpass.organizations.models import Organization
    from engpass.trends.models import TrendSnapshot

    # Core on a plain connection: no tenant filter, and the column's type formats the timestamp.
    with engine.connect() as connection:
        total = connection.execute(select(func.count(Organization.id))).scalar_one()
        done = connection.execute(
            select(func.count(distinct(TrendSnapshot.organization_id))).where(TrendSnapshot.computed_at >= since)
        ).scalar_one()
    return done, total


def bench_is_postgres(engine: Any) -> bool:
    return engine.dialect.name == "postgresql"


def check_monitor_sees_all(engine: Any) -> None:
    from sqlalchemy import text

    if not bench_is_postgres(engine):
        return
    with engine.connect() as connection:
        bypass = connection.execute(
            text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).scalar_one()
    if not bypass:
        raise SystemExit("ENGPASS_TEST_DATABASE_URL must be a superuser (or BYPASSRLS) to watch every organization")


def purge_broker(bench: Bench) -> None:
    if not bench.broker_url:
        return
    import redis

    # Only the default queue of the bench's own Redis database: leftovers of an aborted run.
    redis.Redis.from_url(bench.broker_url).delete("celery", "unacked", "unacked_index")


@dataclass
class FanOut:
    """What one run of ``engpass.trends.recompute_all`` cost, timed from sending it until every organization
    it was to recompute has snapshots computed since."""

    organizations: int
    elapsed: float
    worker_cpu: float
    machine_cpu: float
    database_cpu: float | None


def due_count(engine: Any) -> int:
    """How many organizations the nightly run will pick, by the run's own query."""
    from sqlalchemy.orm import Session

    from engpass.trends.service import due_organizations

    with Session(engine) as session:
        return len(due_organizations(session))


def time_fan_out(bench: Bench, name: str, full: bool) -> FanOut:
    """Start a worker, send recompute-all (``full``: the explicit rebuild, else the nightly run) and wait."""
    from celery import Celery

    from engpass import task_names
    from engpass.settings import Settings

    purge_broker(bench)
    worker = start(bench, "worker", worker_command(bench.concurrency))
    wait_for_log(bench, "worker", r"ready\.", worker, timeout=90)
    settings = Settings.from_env({"redis_url": bench.broker_url, "instance_dir": bench.env["ENGPASS_INSTANCE_DIR"]})
    client = Celery("engpass-bench", broker=settings.broker_url, set_as_current=False)
    sampler = RssSampler(worker.pid)
    with monitor_engine(bench) as engine:
        check_monitor_sees_all(engine)
        expected = None if full else due_count(engine)
        sampler.start()
        bench.figures[f"{name}_loadavg_before"] = load_average()
        workers_cpu = CpuMeter(lambda: process_tree(worker.pid))
        database_cpu = CpuMeter(lambda: database_backends(DB_NAME)) if bench.admin_url else None
        since = datetime.now(UTC)
        started = time.perf_counter()
        client.send_task(task_names.RECOMPUTE_ALL_TRENDS, kwargs={"full": full})
        last_report = 0.0
        while True:
            done, total = organizations_done(engine, since)
            target = total if expected is None else expected
            elapsed = time.perf_counter() - started
            if done >= target:
                break
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited during {name}; see its log")
            if elapsed > RECOMPUTE_ALL_TIMEOUT:
                raise SystemExit(f"{name}: only {done}/{target} organizations after {elapsed:.0f} s")
            if elapsed - last_report >= 10:
                log(f"  {name}: {done}/{target} organizations after {elapsed:.0f} s")
                last_report = elapsed
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        worker_cpu, machine_cpu = workers_cpu.stop()
        sampler.stop()
    client.close()
    bench.figures["worker_peak_rss_mb"] = max(bench.figures.get("worker_peak_rss_mb", 0), round(sampler.peak_total))
    bench.figures["worker_process_peak_rss_mb"] = max(
        bench.figures.get("worker_process_peak_rss_mb", 0), round(sampler.peak_single)
    )
    # Before the worker stops: its database backends end with it.
    database_seconds = database_cpu.stop()[0] if database_cpu is not None else None
    stop(worker)
    log(f"  {name}: {target} organizations in {elapsed:.1f} s")
    return FanOut(target, elapsed, worker_cpu, machine_cpu, database_seconds)


def record_fan_out(bench: Bench, name: str, run: FanOut) -> None:
    bench.figures[f"{name}_s"] = round(run.elapsed, 1)
    bench.figures[f"{name}_worker_cpu_s"] = round(run.worker_cpu, 1)
    if run.database_cpu is not None:
        bench.figures[f"{name}_db_cpu_s"] = round(run.database_cpu, 1)
    # Everything the machine's cores did meanwhile, the bench's own polling included.
    bench.figures[f"{name}_machine_cpu_s"] = round(run.machine_cpu, 1)


def recompute_all(bench: Bench) -> None:
    """The explicit full rebuild: every organization, every week."""
    record_fan_out(bench, "recompute_all", time_fan_out(bench, "recompute_all", full=True))


def recompute_nightly(bench: Bench, app: Any) -> None:
    """The nightly run after one organization in NIGHTLY_CHANGED_EVERY changed (a measurement of today whose
    own recompute never ran): it picks those and recomputes their latest weeks."""
    from sqlalchemy import select

    from engpass import tenancy
    from engpass.db import db
    from engpass.demo.scale_roster import org_slug
    from engpass.organizations.models import Organization

    with app.app_context():
        session = db.factory()
        slugs = [org_slug(n) for n in range(1, bench.orgs + 1, NIGHTLY_CHANGED_EVERY)]
        orgs = session.scalars(select(Organization).where(Organization.slug.in_(slugs))).all()
        session.commit()
        for org in orgs:
            with tenancy.tenant_context(session, org.id):
                add_todays_measurement(session)
                session.commit()
            session.expunge_all()
        session.close()
    run = time_fan_out(bench, "recompute_nightly", full=False)
    record_fan_out(bench, "recompute_nightly", run)
    bench.figures["recompute_nightly_changed"] = len(orgs)
    bench.figures["recompute_nightly_orgs"] = run.organizations


def build_app(bench: Bench) -> Any:
    from engpass import create_app
    from engpass.settings import Settings

    settings = Settings.from_env(
        {
            "database_url": bench.app_url,
            "migration_database_url": bench.owner_url,
            "instance_dir": bench.env["ENGPASS_INSTANCE_DIR"],
            "secret_key": bench.env["ENGPASS_SECRET_KEY"],
            # No broker in-process: nothing here may hand work to anyone.
            "redis_url": "",
            "rate_limits_enabled": False,
        }
    )
    app = create_app(settings)
    app.config.update(WTF_CSRF_ENABLED=False)
    return app


def add_todays_measurement(session: Any) -> None:
    """A measurement of today on the current organization's latest measured cycle, through the service as the
    web adds it (it records the change's day for the recompute); its outbox message goes to the in-process
    app's own embedded broker, which no worker reads."""
    from sqlalchemy import select

    from engpass.cycles.models import Cycle, Stage
    from engpass.cycles.service import add_measurement

    cycle = session.scalars(
        select(Cycle).where(Cycle.stage.in_([Stage.result, Stage.decided])).order_by(Cycle.id.desc())
    ).first()
    if cycle is not None:
        add_measurement(
            session,
            cycle,
            {
                "measured_on": date.today(),
                "kpi_value": Decimal(cycle.kpi_baseline or 0),
                "hours_per_week": Decimal(cycle.hours_per_week or 0),
                "cost_per_week": None,
                "note": "bench",
            },
            actor_id=None,
        )


def recompute_one(bench: Bench, app: Any) -> None:
    """One organization after one change: a new measurement, then what the worker's task does. The change's
    outbox message goes to the in-process app's own embedded broker, which no worker reads."""
    from sqlalchemy import select

    from engpass import tenancy
    from engpass.db import db
    from engpass.demo.scale_roster import org_slug
    from engpass.organizations.models import Organization
    from engpass.trends.service import recompute

    timings = []
    with app.app_context():
        session = db.factory()
        slugs = [org_slug(n) for n in range(1, min(bench.orgs, RECOMPUTE_ONE_RUNS) + 1)]
        orgs = session.scalars(select(Organization).where(Organization.slug.in_(slugs))).all()
        session.commit()
        for run in range(RECOMPUTE_ONE_RUNS):
            org = orgs[run % len(orgs)]
            with tenancy.tenant_context(session, org.id):
                add_todays_measurement(session)
                session.commit()
                started = time.perf_counter()
                recompute(session)
                session.commit()
                timings.append((time.perf_counter() - started) * 1000)
            session.expunge_all()
        session.close()
    bench.figures["recompute_one_ms_p50"] = round(statistics.median(timings), 1)
    bench.figures["recompute_one_ms_max"] = round(max(timings), 1)


def visit_counting_statements(app: Any, email: str, path: str) -> tuple[Any, Any, list[str]]:
    """Log ``email`` in in-process, visit ``path`` once (which remembers the organization in the session),
    then again: the client, that second response and the SQL statements it ran."""
    from sqlalchemy import event

    from engpass.db import db
    from engpass.demo.data import DEMO_PASSWORD

    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"in-process login of {email} failed: {response.status_code}")
    if client.get(path).status_code != 200:
        raise SystemExit(f"{path} did not answer 200 in-process")
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return client, response, statements


def count_dashboard_queries(bench: Bench, app: Any) -> None:
    """SQL statements of one dashboard request, counted in-process on the same app and data."""
    from engpass.demo.scale_roster import org_slug, owner_email

    path = f"/o/{org_slug(1)}/"
    client, response, statements = visit_counting_statements(app, owner_email(1), path)
    if response.status_code != 200:
        raise SystemExit(f"dashboard answered {response.status_code} in-process")
    page = [s for s in statements if not STATEMENT_PLUMBING.match(s)]
    bench.figures["dashboard_queries"] = len(page)
    bench.figures["dashboard_statements_all"] = len(statements)
    # The in-process app has no Redis, hence no page cache: what a request costs that finds no cached page
    # (the first after a change), with the page's body still cached per organization and data version.
    timings = []
    for _ in range(UNCACHED_DASHBOARD_RUNS):
        started = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
    bench.figures["dashboard_uncached_ms_p50"] = round(statistics.median(timings), 2)


# --- web: gunicorn and wrk -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Each request's line in gunicorn's access log (which the deployment's config already writes) with the time its
# worker spent on it: %(D)s is microseconds from reading the request to the answer written, without the wait in
# the listen queue before a worker took it.
ACCESS_FORMAT = "ACCESS %(m)s %(U)s %(s)s %(D)s"
ACCESS_LINE = re.compile(r"^ACCESS (\S+) (\S+) (\d{3}) (\d+)$", re.MULTILINE)


def start_gunicorn(bench: Bench, port: int) -> subprocess.Popen[bytes]:
    bench.env["GUNICORN_WORKERS"] = str(bench.web_workers)
    command = [
        str(BIN / "gunicorn"),
        "--config",
        str(REPO / "deploy" / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logformat",
        ACCESS_FORMAT,
        "engpass:create_app()",
    ]
    process = start(bench, "gunicorn", command)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.stderr.write((bench.workdir / "gunicorn.log").read_text(errors="replace")[-4000:])
            raise SystemExit("gunicorn exited")
        with suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=2).read()
            return process
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /livez")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def session_cookie(base: str, email: str, password: str, path: str) -> str:
    """Log in like a browser (CSRF token first), visit the dashboard once, return the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    opener.addheaders = [("User-Agent", USER_AGENT)]
    html = opener.open(f"{base}/login").read().decode()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise SystemExit("no CSRF token on the login page")
    body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": match.group(1)}).encode()
    try:
        opener.open(f"{base}/login", data=body)
    except urllib.error.HTTPError as error:
        if error.code != 302:
            raise SystemExit(f"login as {email} answered {error.code}") from None
    # The first visit stores the organization in the session; later requests then send a settled cookie.
    for _ in range(2):
        response = opener.open(f"{base}{path}")
        if response.status != 200 or response.url.rstrip("/").endswith("/login"):
            raise SystemExit(f"{path} answered {response.status} after login")
        response.read()
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


LUA = """
-- Rotates over (path, cookie) pairs, asking like a browser (which accepts gzip); done() prints what the
-- summary line of wrk leaves out.
local targets = {
%s
}
local i = 0
request = function()
  i = i %% #targets + 1
  local t = targets[i]
  return wrk.format("GET", t[1], {["Cookie"] = t[2], ["User-Agent"] = "%s", ["Accept-Encoding"] = "gzip, deflate"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK requests=%%d duration_us=%%d p50_us=%%d p95_us=%%d p99_us=%%d errors=%%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(
    bench: Bench, wrk: str, base: str, targets: list[tuple[str, str]], name: str, seconds: int
) -> dict[str, float]:
    script = bench.workdir / f"{name}.lua"
    rows = ",\n".join(f"  {{{lua_string(path)}, {lua_string(cookie)}}}" for path, cookie in targets)
    script.write_text(LUA % (rows, USER_AGENT))
    command = [
        wrk,
        f"-t{bench.threads}",
        f"-c{bench.connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        base + targets[0][0],
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    (bench.workdir / f"{name}.wrk.txt").write_text(output)
    match = re.search(r"WRK (.*)", output)
    if not match:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    values: dict[str, float] = {key: int(value) for key, value in (item.split("=") for item in match.group(1).split())}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    values["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    values["rps"] = values["requests"] / (values["duration_us"] / 1e6)
    return values


def load_test(bench: Bench, wrk: str) -> None:
    from engpass.demo.data import DEMO_PASSWORD
    from engpass.demo.scale_roster import org_slug, owner_email

    port = free_port()
    gunicorn = start_gunicorn(bench, port)
    base = f"http://127.0.0.1:{port}"
    numbers = [1 + (bench.orgs * k) // DASHBOARD_ORGS for k in range(min(DASHBOARD_ORGS, bench.orgs))]
    dashboards = []
    for n in numbers:
        path = f"/o/{org_slug(n)}/"
        dashboards.append((path, session_cookie(base, owner_email(n), DEMO_PASSWORD, path)))
    trivial = [("/livez", "")]
    for name, targets in (("trivial", trivial), ("dashboard", dashboards)):
        log(f"  wrk {name}: warm-up, then {bench.duration} s × {bench.connections} connections")
        run_wrk(bench, wrk, base, targets, f"{name}-warmup", 2)
        bench.figures[f"{name}_loadavg_before"] = load_average()
        web_cpu = CpuMeter(lambda: process_tree(gunicorn.pid))
        result = run_wrk(bench, wrk, base, targets, name, bench.duration)
        cpu, machine = web_cpu.stop()
        bench.figures[f"{name}_web_cpu_ms_per_request"] = round(1000 * cpu / max(1, result["requests"]), 3)
        bench.figures[f"{name}_machine_cpu_share"] = round(machine / (result["duration_us"] / 1e6) / os.cpu_count(), 2)
        if result["errors"] or result["non_2xx"]:
            raise SystemExit(f"{name}: {result['errors']} errors, {result['non_2xx']} non-2xx/3xx responses")
        bench.figures[f"{name}_rps"] = round(result["rps"])
        bench.figures[f"{name}_p50_ms"] = round(result["p50_us"] / 1000, 2)
        bench.figures[f"{name}_p95_ms"] = round(result["p95_us"] / 1000, 2)
        bench.figures[f"{name}_p99_ms"] = round(result["p99_us"] / 1000, 2)
    # Still logged in after the run: a cookie that had lapsed would have measured the login redirect.
    check = urllib.request.Request(base + dashboards[0][0], headers={"Cookie": dashboards[0][1]})
    opener = urllib.request.build_opener(NoRedirect())
    try:
        opener.open(check).read()
    except urllib.error.HTTPError as error:
        raise SystemExit(f"the dashboard cookie stopped working: {error.code}") from None
    ratio = bench.figures["dashboard_rps"] / bench.figures["trivial_rps"]
    bench.figures["dashboard_vs_trivial_rps_ratio"] = round(ratio, 3)
    stop(gunicorn)


# --- mixed load: people and API clients at work for several minutes ------------------------------------------

LOAD_ORGS = 4
# How often each kind of request comes up in one rotation: mostly reading, as people do.
LOAD_MIX = (
    ("dashboard", 4),
    ("cycle_page", 3),
    ("cycle_edit", 1),
    ("measurement", 1),
    ("api_read", 2),
    ("api_write", 1),
)
LOAD_NOTE = "bench load"

MIXED_LUA = """
-- Rotates over prepared requests of several kinds; counts per kind what it sent. Every thread has a Lua state
-- of its own, so done() adds up the threads' counters.
local targets = {
%s
}
local kinds = {%s}
local i = 0
local threads = {}
setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
init = function(args)
  i = id * 7
  for _, kind in ipairs(kinds) do _G["n_" .. kind] = 0 end
end
request = function()
  i = i %% #targets + 1
  local t = targets[i]
  _G["n_" .. t[1]] = _G["n_" .. t[1]] + 1
  return wrk.format(t[2], t[3], t[4], t[5])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK requests=%%d duration_us=%%d p50_us=%%d p95_us=%%d p99_us=%%d errors=%%d",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
  for _, kind in ipairs(kinds) do
    local n = 0
    for _, thread in ipairs(threads) do n = n + thread:get("n_" .. kind) end
    io.write(string.format(" sent_%%s=%%d", kind, n))
  end
  io.write("\\n")
end
"""


@dataclass
class LoadTarget:
    kind: str
    method: str
    path: str
    headers: dict[str, str]
    body: str = ""

    def lua(self) -> str:
        headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in self.headers.items())
        body = lua_string(self.body) if self.body else "nil"
        parts = (lua_string(self.kind), lua_string(self.method), lua_string(self.path))
        return f"  {{{', '.join(parts)}, {{{headers}}}, {body}}}"


def browser_session(base: str, email: str, password: str, form_path: str) -> tuple[str, str]:
    """Log in like a browser and open a form: the Cookie header and the form's CSRF token (valid for the
    session, so every later POST of the load may send it)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    token = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
    html = opener.open(f"{base}/login").read().decode()
    body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token.search(html).group(1)})
    opener.open(f"{base}/login", data=body.encode()).read()
    match = token.search(opener.open(base + form_path).read().decode())
    if not match:
        raise SystemExit(f"no CSRF token on {form_path} after logging in as {email}")
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar), match.group(1)


def load_cycles(bench: Bench, org_number: int) -> tuple[int, int, str, int]:
    """The owner's id, a cycle still in its bottleneck-to-prototype stages (edited) and one in the result stage
    whose prototype started (measured), with the edited one's category, of an organization of the scale demo."""
    from sqlalchemy import select

    from engpass.accounts.models import User
    from engpass.cycles.models import Cycle, Stage
    from engpass.demo.scale_roster import org_slug, owner_email
    from engpass.organizations.models import Organization

    with monitor_engine(bench) as engine, engine.connect() as connection:
        org_id = connection.execute(
            select(Organization.id).where(Organization.slug == org_slug(org_number))
        ).scalar_one()
        owner_id = connection.execute(select(User.id).where(User.email == owner_email(org_number))).scalar_one()
        rows = connection.execute(
            select(Cycle.id, Cycle.stage, Cycle.prototype_start, Cycle.category)
            .where(Cycle.organization_id == org_id)
            .order_by(Cycle.id)
        ).all()
    edited = next((row for row in rows if row.stage != Stage.decided and row.category), None)
    measured = next(
        (
            row.id
            for row in rows
            if row.stage == Stage.result and row.prototype_start and row.prototype_start <= date.today()
        ),
        None,
    )
    if edited is None or measured is None:
        raise SystemExit(f"organization {org_number} has no open cycle to edit or to measure")
    return owner_id, edited.id, str(edited.category), measured


def api_token(app: Any, bench: Bench, org_number: int, owner_id: int) -> str:
    from sqlalchemy import select

    from engpass import tenancy
    from engpass.db import db
    from engpass.demo.scale_roster import org_slug
    from engpass.organizations.models import Organization
    from engpass.tokens.service import create_token

    with app.app_context():
        session = db.factory()
        org_id = session.scalar(select(Organization.id).where(Organization.slug == org_slug(org_number)))
        with tenancy.tenant_context(session, org_id):
            _token, secret = create_token(session, owner_id, "bench load", None, None)
            session.commit()
        session.close()
    return secret


def load_targets(bench: Bench, app: Any, base: str, org_number: int) -> list[LoadTarget]:
    """One rotation of ``LOAD_MIX`` for the owner of one organization, in the browser and through the API."""
    from engpass.demo.data import DEMO_PASSWORD
    from engpass.demo.scale_roster import org_slug, owner_email

    slug = org_slug(org_number)
    owner_id, edited, category, measured = load_cycles(bench, org_number)
    cookie, csrf = browser_session(
        base, owner_email(org_number), DEMO_PASSWORD, f"/o/{slug}/cycles/{edited}/bottleneck"
    )
    browser = {"Cookie": cookie, "User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    form = {**browser, "Content-Type": "application/x-www-form-urlencoded"}
    api = {"Authorization": f"Bearer {api_token(app, bench, org_number, owner_id)}", "User-Agent": USER_AGENT}
    api_json = {**api, "Content-Type": "application/json"}
    today = date.today().isoformat()
    edit = urllib.parse.urlencode(
        {
            "title": f"Engpass {org_number}",
            "category": category,
            "why": "",
            "owner_id": owner_id,
            # The form asks who backs the cycle; an owner may.
            "sponsor_id": owner_id,
            "csrf_token": csrf,
        }
    )
    measurement = urllib.parse.urlencode(
        {"measured_on": today, "kpi_value": "12", "hours_per_week": "", "cost_per_week": "", "note": LOAD_NOTE}
        | {"csrf_token": csrf}
    )
    api_measurement = f'{{"measured_on": "{today}", "kpi_value": "12.5", "note": "{LOAD_NOTE}"}}'
    by_kind = {
        "dashboard": [LoadTarget("dashboard", "GET", f"/o/{slug}/", browser)],
        "cycle_page": [LoadTarget("cycle_page", "GET", f"/o/{slug}/cycles/{measured}/", browser)],
        "cycle_edit": [LoadTarget("cycle_edit", "POST", f"/o/{slug}/cycles/{edited}/bottleneck", form, edit)],
        "measurement": [
            LoadTarget("measurement", "POST", f"/o/{slug}/cycles/{measured}/measurements/new", form, measurement)
        ],
        "api_read": [
            LoadTarget("api_read", "GET", "/api/v1/cycles?status=open", api),
            LoadTarget("api_read", "GET", f"/api/v1/cycles/{measured}", api),
        ],
        "api_write": [
            LoadTarget("api_write", "POST", f"/api/v1/cycles/{measured}/measurements", api_json, api_measurement)
        ],
    }
    targets = []
    for kind, weight in LOAD_MIX:
        options = by_kind[kind]
        targets += [options[n % len(options)] for n in range(weight)]
    return targets


def service_times(access_log: str, targets: list[LoadTarget]) -> dict[str, list[float]]:
    """Milliseconds each request of the load spent in a gunicorn worker, by kind, from the access log."""
    kind_of = {(t.method, t.path.partition("?")[0]): t.kind for t in targets}
    times: dict[str, list[float]] = {}
    for method, path, _status, micros in ACCESS_LINE.findall(access_log):
        kind = kind_of.get((method, path))
        if kind is not None:
            times.setdefault(kind, []).append(int(micros) / 1000)
    return times


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the value below which ``fraction`` of ``values`` lie."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def report_kinds(bench: Bench, times: dict[str, list[float]]) -> None:
    """Per kind of request: p50 and p95 of its time in a worker, and its share of all the workers' time — the
    kind with the largest share is the next page to make cheaper."""
    total = sum(sum(values) for values in times.values()) or 1.0
    for kind, values in times.items():
        bench.figures[f"load_{kind}_p50_ms"] = round(percentile(values, 0.50), 2)
        bench.figures[f"load_{kind}_p95_ms"] = round(percentile(values, 0.95), 2)
        bench.figures[f"load_{kind}_worker_share"] = round(sum(values) / total, 3)


def saved_load_measurements(bench: Bench) -> int:
    from sqlalchemy import func, select

    from engpass.cycles.models import Measurement

    with monitor_engine(bench) as engine, engine.connect() as connection:
        return connection.execute(select(func.count()).where(Measurement.note == LOAD_NOTE)).scalar_one()


def mixed_load(bench: Bench, app: Any, wrk: str) -> None:
    """``BENCH_LOAD_SECONDS`` (180) of mixed traffic on loopback against gunicorn: dashboards, cycle pages,
    a cycle's form saved, measurements added in the browser and through the API, API reads. Any error fails
    the run; the measurements saved must be as many as were sent."""
    from engpass.db import db

    seconds = env_int("BENCH_LOAD_SECONDS", 180)
    port = free_port()
    gunicorn = start_gunicorn(bench, port)
    base = f"http://127.0.0.1:{port}"
    numbers = [1 + (bench.orgs * k) // LOAD_ORGS for k in range(min(LOAD_ORGS, bench.orgs))]
    # Interleaved by organization, so that neighbouring requests hit different tenants.
    per_org = [load_targets(bench, app, base, n) for n in numbers]
    if db.engine is not None:
        db.engine.dispose()
    targets = [t for rotation in zip(*per_org, strict=True) for t in rotation]
    kinds = [kind for kind, _weight in LOAD_MIX]
    script = bench.workdir / "mixed.lua"
    script.write_text(MIXED_LUA % (",\n".join(t.lua() for t in targets), ", ".join(map(lua_string, kinds))))
    before = saved_load_measurements(bench)
    access_log = bench.workdir / "gunicorn.log"
    logins_end = access_log.stat().st_size
    log(f"  wrk mixed load: {seconds} s × {bench.connections} connections over {len(numbers)} organizations")
    command = [wrk, f"-t{bench.threads}", f"-c{bench.connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
    # Where the two cores went: the web workers' share says whether more of them could be kept busy.
    web_cpu = CpuMeter(lambda: process_tree(gunicorn.pid))
    output = subprocess.run([*command, base + "/"], capture_output=True, text=True, check=True).stdout
    cpu, machine = web_cpu.stop()
    bench.figures["load_web_cpu_cores"] = round(cpu / seconds, 2)
    bench.figures["load_machine_cpu_share"] = round(machine / seconds / (os.cpu_count() or 1), 2)
    (bench.workdir / "mixed.wrk.txt").write_text(output)
    stop(gunicorn)
    with access_log.open("rb") as lines:
        lines.seek(logins_end)
        report_kinds(bench, service_times(lines.read().decode(errors="replace"), targets))
    match = re.search(r"WRK (.*)", output)
    if not match:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    values = {key: int(value) for key, value in (item.split("=") for item in match.group(1).split())}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failed = values["errors"] + (int(non_2xx.group(1)) if non_2xx else 0)
    requests = max(1, values["requests"])
    bench.figures["load_seconds"] = seconds
    bench.figures["load_requests"] = values["requests"]
    bench.figures["load_rps"] = round(values["requests"] / (values["duration_us"] / 1e6), 1)
    bench.figures["load_p50_ms"] = round(values["p50_us"] / 1000, 2)
    bench.figures["load_p95_ms"] = round(values["p95_us"] / 1000, 2)
    bench.figures["load_p99_ms"] = round(values["p99_us"] / 1000, 2)
    bench.figures["load_error_rate"] = round(failed / requests, 6)
    for kind in kinds:
        bench.figures[f"load_sent_{kind}"] = values[f"sent_{kind}"]
    # wrk counts a request it sent in the last instant but whose answer it no longer read as sent, so the
    # saved rows may exceed the answered ones by at most one per connection; fewer would be a lost write.
    sent_measurements = values["sent_measurement"] + values["sent_api_write"]
    bench.figures["load_measurements_saved"] = saved_load_measurements(bench) - before
    if failed:
        raise SystemExit(f"mixed load: {failed} errors or non-2xx/3xx responses of {values['requests']}")
    if bench.figures["load_measurements_saved"] < sent_measurements - bench.connections:
        raise SystemExit(
            f"mixed load: {sent_measurements} measurements sent, {bench.figures['load_measurements_saved']} saved"
        )


# --- portfolio: a consultancy with BENCH_PORTFOLIO_CLIENTS clients ------------------------------------------

PORTFOLIO_CONSULTANTS = 4
PORTFOLIO_EMAIL = "bench-consultant-{}@demo.example"


def portfolio_clients(bench: Bench) -> int:
    return min(bench.orgs, env_int("BENCH_PORTFOLIO_CLIENTS", 200))


def setup_portfolio(bench: Bench, app: Any) -> str:
    """A consultancy whose clients are the first benchmark organizations (their portfolio documents were
    written by the recompute-all above), with a few consultants; returns its slug."""
    from sqlalchemy import select

    from engpass.accounts.service import create_user, find_user
    from engpass.consulting.models import AccessLevel
    from engpass.consulting.service import active_access, grant
    from engpass.db import db
    from engpass.demo.data import DEMO_PASSWORD
    from engpass.demo.scale_roster import org_slug
    from engpass.organizations.models import Organization, OrgKind, Role
    from engpass.organizations.service import add_member, create_organization

    with app.app_context():
        session = db.factory()
        users = [
            find_user(session, PORTFOLIO_EMAIL.format(i))
            or create_user(session, PORTFOLIO_EMAIL.format(i), f"Beraterin {i}", DEMO_PASSWORD)
            for i in range(1, PORTFOLIO_CONSULTANTS + 1)
        ]
        firm = session.scalars(select(Organization).where(Organization.name == "Bench Beratung")).first()
        if firm is None:
            firm = create_organization(session, "Bench Beratung", users[0], kind=OrgKind.consultancy)
            for user in users[1:]:
                add_member(session, firm, user, Role.member)
        slugs = [org_slug(n) for n in range(1, portfolio_clients(bench) + 1)]
        for client in session.scalars(select(Organization).where(Organization.slug.in_(slugs))):
            if active_access(session, firm.id, client.id) is None:
                grant(session, client, firm, AccessLevel.read, None)
        session.commit()
        slug = firm.slug
        session.close()
    return slug


def count_portfolio_queries(bench: Bench, app: Any, slug: str) -> None:
    """SQL statements of one portfolio request in-process (no Redis there: the page is rendered), and how
    long rendering it takes. The page shows its first ``PAGE_SIZE`` clients, sorted and filtered over all."""
    from engpass.consulting.views import PAGE_SIZE

    path = f"/o/{slug}/portfolio"
    client, page, statements = visit_counting_statements(app, PORTFOLIO_EMAIL.format(1), path)
    shown = page.get_data(as_text=True).count('class="portfolio__client"')
    if page.status_code != 200 or shown != min(PAGE_SIZE, portfolio_clients(bench)):
        raise SystemExit(f"portfolio answered {page.status_code} with {shown} clients in-process")
    bench.figures["portfolio_queries"] = len([s for s in statements if not STATEMENT_PLUMBING.match(s)])
    # What one answer weighs, as rendered and as the page cache stores and sends it to browsers.
    from engpass.compression import gzipped

    bench.figures["portfolio_page_kb"] = round(len(page.get_data()) / 1024, 1)
    bench.figures["portfolio_page_gzip_kb"] = round(len(gzipped(page.get_data())) / 1024, 1)
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
    bench.figures["portfolio_uncached_ms_p50"] = round(statistics.median(timings), 2)


def portfolio_load_test(bench: Bench, app: Any, wrk: str) -> None:
    """The portfolio of a consultancy with ``BENCH_PORTFOLIO_CLIENTS`` (200) clients under wrk, rotating over
    its consultants' sessions, against the constant route of the same server in the same minute."""
    from engpass.db import db
    from engpass.demo.data import DEMO_PASSWORD

    slug = setup_portfolio(bench, app)
    count_portfolio_queries(bench, app, slug)
    if db.engine is not None:
        db.engine.dispose()
    bench.figures["portfolio_clients"] = portfolio_clients(bench)
    port = free_port()
    gunicorn = start_gunicorn(bench, port)
    base = f"http://127.0.0.1:{port}"
    path = f"/o/{slug}/portfolio"
    sessions = [
        (path, session_cookie(base, PORTFOLIO_EMAIL.format(i), DEMO_PASSWORD, path))
        for i in range(1, PORTFOLIO_CONSULTANTS + 1)
    ]
    # The login's two visits remember the client list; one more stores each session's page.
    for _path, cookie in sessions:
        urllib.request.urlopen(urllib.request.Request(base + path, headers={"Cookie": cookie})).read()
    for name, targets in (("portfolio_trivial", [("/livez", "")]), ("portfolio", sessions)):
        log(f"  wrk {name}: warm-up, then {bench.duration} s × {bench.connections} connections")
        run_wrk(bench, wrk, base, targets, f"{name}-warmup", 2)
        bench.figures[f"{name}_loadavg_before"] = load_average()
        web_cpu = CpuMeter(lambda: process_tree(gunicorn.pid))
        result = run_wrk(bench, wrk, base, targets, name, bench.duration)
        cpu, _machine = web_cpu.stop()
        if result["errors"] or result["non_2xx"]:
            raise SystemExit(f"{name}: {result['errors']} errors, {result['non_2xx']} non-2xx/3xx responses")
        bench.figures[f"{name}_rps"] = round(result["rps"])
        bench.figures[f"{name}_web_cpu_ms_per_request"] = round(1000 * cpu / max(1, result["requests"]), 3)
        bench.figures[f"{name}_p95_ms"] = round(result["p95_us"] / 1000, 2)
    ratio = bench.figures["portfolio_rps"] / bench.figures["portfolio_trivial_rps"]
    bench.figures["portfolio_vs_trivial_rps_ratio"] = round(ratio, 3)
    stop(gunicorn)


# --- digests: one worker process sends them to a local SMTP sink ------------------------------------------


def digest_moment() -> datetime:
    """This week's default digest slot (Monday 07:00 in Berlin, where every benchmark user lives), in UTC:
    every user is due then, and the digest describes last week, which lies wholly in the past."""
    from datetime import time as clock
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from engpass.notifications.preferences import DEFAULTS, Preferences, due_for_digest
    from engpass.trends.service import week_start

    day = week_start(datetime.now(ZoneInfo(DEFAULTS.timezone)).date()) + timedelta(days=DEFAULTS.digest_weekday)
    moment = datetime.combine(day, clock(DEFAULTS.digest_hour), tzinfo=ZoneInfo(DEFAULTS.timezone)).astimezone(UTC)
    assert due_for_digest(Preferences(), moment)
    return moment


def digest_readers(engine: Any, count: int) -> list[int]:
    """The first users by id whose memberships add up to ``count`` digests (one each in the scale demo)."""
    from sqlalchemy import func, select

    from engpass.organizations.models import Membership

    with engine.connect() as connection:
        rows = connection.execute(
            select(Membership.user_id, func.count()).group_by(Membership.user_id).order_by(Membership.user_id)
        ).all()
    readers, digests = [], 0
    for user_id, memberships in rows:
        if digests >= count:
            break
        readers.append(user_id)
        digests += memberships
    if digests != count:
        raise SystemExit(f"the data has {digests} digests for {len(readers)} users, not {count}")
    return readers


def digest_log_counts(engine: Any) -> dict[str, int]:
    """Send-log rows of the digests by status."""
    from sqlalchemy import func, select

    from engpass.digest.sending import KIND_PREFIX
    from engpass.notifications.models import SendLog

    with engine.connect() as connection:
        rows = connection.execute(
            select(SendLog.status, func.count()).where(SendLog.kind.startswith(KIND_PREFIX)).group_by(SendLog.status)
        ).all()
    return {getattr(status, "value", status): count for status, count in rows}


def forget_digests(bench: Bench) -> None:
    """The digests' send log emptied, as the owner: the next run sends the same week's digests again."""
    from sqlalchemy import delete

    from engpass.digest.sending import KIND_PREFIX
    from engpass.notifications.models import SendLog

    with monitor_engine(bench) as engine, engine.begin() as connection:
        connection.execute(delete(SendLog).where(SendLog.kind.startswith(KIND_PREFIX)))


def sink_status(path: Path) -> tuple[int, float, float]:
    """Messages the sink accepted, and the monotonic time of the first and the latest."""
    with suppress(FileNotFoundError):
        count, first, last = path.read_text().split()
        return int(count), float(first), float(last)
    return 0, 0.0, 0.0


def send_digests(bench: Bench, pool: str, concurrency: int, prefix: str = "digest_") -> None:
    """``BENCH_DIGESTS`` weekly digests, rendered and sent over SMTP by a worker with ``pool`` and
    ``concurrency``, batch after batch as the hourly round hands them out; timed until the sink has the last
    one. Its figures are named ``<prefix>…``."""
    from celery import Celery

    from engpass import task_names
    from engpass.digest.sending import batches
    from engpass.settings import Settings

    purge_broker(bench)
    port = free_port()
    status = bench.workdir / f"{prefix}smtp-sink.status"
    sink = start(
        bench, f"{prefix}smtp-sink", [sys.executable, str(REPO / "bench" / "smtp_sink.py"), str(port), str(status)]
    )
    wait_for_log(bench, f"{prefix}smtp-sink", r"listening", sink, timeout=30)
    # One process: "solo" runs each task in the worker process itself, one after the other; "threads" lets
    # BENCH_DIGEST_THREADS batches share it (docs/performance.md, "Digests").
    worker = start(
        bench,
        f"{prefix}worker",
        worker_command(concurrency, pool=pool),
        extra_env={"ENGPASS_SMTP_URL": f"smtp://127.0.0.1:{port}"},
    )
    wait_for_log(bench, f"{prefix}worker", r"ready\.", worker, timeout=90)
    settings = Settings.from_env({"redis_url": bench.broker_url, "instance_dir": bench.env["ENGPASS_INSTANCE_DIR"]})
    client = Celery("engpass-bench", broker=settings.broker_url, set_as_current=False)
    moment = digest_moment()
    count = bench.digests
    at_share: dict[int, float] = {}
    with monitor_engine(bench) as engine:
        readers = digest_readers(engine, count)
        sampler = RssSampler(worker.pid)
        sampler.start()
        bench.figures[f"{prefix}loadavg_before"] = load_average()
        worker_cpu = CpuMeter(lambda: process_tree(worker.pid))
        sink_cpu = CpuMeter(lambda: [sink.pid])
        database_cpu = CpuMeter(lambda: database_backends(DB_NAME)) if bench.admin_url else None
        started = time.monotonic()
        for user_ids in batches(readers, settings.digest_batch_size):
            client.send_task(task_names.SEND_DIGEST_BATCH, kwargs={"user_ids": user_ids, "now": moment.isoformat()})
        last_report = last_count = 0
        last_change = started
        while True:
            sent, first, last = sink_status(status)
            now = time.monotonic()
            # The memory at a tenth and at nine tenths of the way: flat if it does not grow with the count.
            for percent in (10, 90):
                if percent not in at_share and sent * 100 >= count * percent:
                    at_share[percent] = sampler.latest
            if sent >= count:
                break
            if sent != last_count:
                last_count, last_change = sent, now
            if worker.poll() is not None:
                raise SystemExit("the digest worker exited; see its log")
            if now - started > DIGEST_TIMEOUT or now - last_change > DIGEST_STALL_TIMEOUT:
                logged = digest_log_counts(engine)
                raise SystemExit(f"digests: {sent}/{count} after {now - started:.0f} s; send log {logged}")
            if now - last_report >= 10:
                log(f"  digests: {sent}/{count} after {now - started:.0f} s")
                last_report = now
            time.sleep(0.1)
        elapsed = last - started
        worker_seconds, machine_seconds = worker_cpu.stop()
        sink_seconds = sink_cpu.stop()[0]
        database_seconds = database_cpu.stop()[0] if database_cpu is not None else None
        sampler.stop()
        # The sink counts what it accepted; the send log must say the same once the last result is recorded.
        deadline = time.monotonic() + 60
        while (logged := digest_log_counts(engine)).get("sent", 0) < count and time.monotonic() < deadline:
            time.sleep(0.2)
    client.close()
    if sent != count or logged != {"sent": count}:
        raise SystemExit(f"digests: the sink accepted {sent} of {count}, the send log has {logged}")
    bench.figures[f"{prefix}emails_per_s"] = round(count / elapsed, 1)
    bench.figures[f"{prefix}worker_peak_rss_mb"] = round(sampler.peak_total)
    bench.figures[f"{prefix}worker_rss_mb_at_10pct"] = round(at_share[10])
    bench.figures[f"{prefix}worker_rss_mb_at_90pct"] = round(at_share[90])
    bench.figures[f"{prefix}worker_process_peak_rss_mb"] = round(sampler.peak_single)
    bench.figures[f"{prefix}count"] = count
    bench.figures[f"{prefix}s"] = round(elapsed, 1)
    bench.figures[f"{prefix}first_email_s"] = round(first - started, 2)
    bench.figures[f"{prefix}worker_cpu_ms_per_email"] = round(1000 * worker_seconds / count, 2)
    if database_seconds is not None:
        bench.figures[f"{prefix}db_cpu_ms_per_email"] = round(1000 * database_seconds / count, 2)
    bench.figures[f"{prefix}sink_cpu_ms_per_email"] = round(1000 * sink_seconds / count, 2)
    bench.figures[f"{prefix}machine_cpu_s"] = round(machine_seconds, 1)
    log(f"  digests: {count} in {elapsed:.1f} s")
    stop(worker)
    stop(sink)


# --- cleanup and report ----------------------------------------------------------------------------------


def cleanup(bench: Bench, *, failed: bool = False) -> None:
    for process in reversed(bench.processes):
        stop(process)
    if bench.keep:
        log(f"kept (BENCH_KEEP=1): {bench.workdir} and {bench.owner_url}")
        return
    if bench.admin_url:
        from sqlalchemy import create_engine, text

        admin = create_engine(bench.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
            # The role's grants lived in the dropped database, so nothing holds on to it any more.
            with suppress(Exception):
                connection.execute(text(f"DROP ROLE IF EXISTS {APP_ROLE}"))
        admin.dispose()
    if bench.broker_url:
        purge_broker(bench)
        release_redis_database(bench.broker_url)
    if failed:
        # The logs of gunicorn, the workers and wrk are what tells why: kept, without the database.
        log(f"failed: the logs are kept in {bench.workdir}")
        return
    shutil.rmtree(bench.workdir, ignore_errors=True)


FIGURES = (
    "trivial_rps",
    "dashboard_rps",
    "dashboard_vs_trivial_rps_ratio",
    "dashboard_p95_ms",
    "dashboard_queries",
    "recompute_all_s",
    "recompute_nightly_s",
    "recompute_one_ms_p50",
    "worker_peak_rss_mb",
    "portfolio_vs_trivial_rps_ratio",
    "portfolio_queries",
    "digest_emails_per_s",
    "digest_worker_peak_rss_mb",
    "digest_deployed_emails_per_s",
    "digest_deployed_worker_peak_rss_mb",
    "load_p95_ms",
    "load_error_rate",
    "load_rps",
)


def report(bench: Bench) -> None:
    bench.figures.update(
        orgs=bench.orgs,
        cycles_per_org=bench.cycles,
        measurements_per_cycle=bench.measurements,
        people_per_org=1 + members_per_org(bench),
        cpus=os.cpu_count(),
    )
    for name in FIGURES:
        print(f"{name}={bench.figures.get(name, 'n/a')}")
    for name, value in bench.figures.items():
        if name not in FIGURES:
            print(f"{name}={value}")
    sys.stdout.flush()


def main() -> None:
    sys.path[:0] = IMPORT_ROOTS
    bench = Bench()
    wrk = ensure_wrk()
    prepare_environment(bench)
    log(f"work folder {bench.workdir}; broker {bench.figures['broker']}")
    # A second Ctrl-C or a kill still goes through cleanup.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        prepare_database(bench)
        log(f"database {bench.figures['database']}")
        load_data(bench)
        log("recompute-all with the real worker")
        recompute_all(bench)
        app = build_app(bench)
        log("recompute-nightly with the real worker")
        recompute_nightly(bench, app)
        log("recompute-one in-process")
        recompute_one(bench, app)
        count_dashboard_queries(bench, app)
        from engpass.db import db

        if db.engine is not None:
            db.engine.dispose()
        log("load test")
        load_test(bench, wrk)
        portfolio_load_test(bench, app, wrk)
        log("mixed load")
        mixed_load(bench, app, wrk)
        one = bench.digest_threads if bench.digest_pool == "threads" else 1
        log(f"{bench.digests} digests by one worker process ({bench.digest_pool}, {one}) to an SMTP sink")
        send_digests(bench, bench.digest_pool, one)
        forget_digests(bench)
        log(f"the same digests by the deployed worker (prefork, {bench.concurrency} processes)")
        send_digests(bench, "prefork", bench.concurrency, prefix="digest_deployed_")
    except BaseException:
        cleanup(bench, failed=True)
        raise
    cleanup(bench)
    report(bench)


if __name__ == "__main__":
    main()
