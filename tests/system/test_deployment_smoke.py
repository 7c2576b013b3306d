"""The deployment's own process commands, started as they run in production: the release step, gunicorn
with 2 workers, Celery with 2 worker processes and one beat, on loopback against a fresh PostgreSQL
database, a private redis-server and an SMTP sink. One organization signs up through the UI, runs a whole
cycle through the API, sees it on its pages, and its owner receives the welcome mail (sent by a worker)
and the weekly digest; a task the scheduler sends is run by a worker.

The commands come from ``deploy/Procfile``, so this test breaks when they do.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis
import requests
from sqlalchemy import make_url, text

from engpass.db import make_engine
from engpass.settings import REPO_ROOT, normalize_database_url
from tests.support.api import BASELINE, NEW_CYCLE
from tests.support.processes import WAIT_SECONDS, free_port, procfile_commands, wait_until
from tests.support.services import PG_URL, REDIS_URL, service_missing

REPO = REPO_ROOT
PASSWORD = "Rollout-Probe-2026"
APP_ROLE_PASSWORD = "smoke-app-role"

pytestmark = pytest.mark.postgres


class Processes:
    """Long-running children, each in its own process group with its output in a log file."""

    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self.logs, self.env = logs, env
        self.started: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, command: str) -> subprocess.Popen[bytes]:
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            # A shell, as the Procfile's runners use one: $PORT and friends expand in the command.
            process = subprocess.Popen(
                ["/bin/sh", "-c", f"exec {command}"],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((name, process, log))
        return process

    def run(self, *args: str) -> str:
        """A one-off command, as an operator runs it against the same environment."""
        result = subprocess.run(args, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=WAIT_SECONDS)
        assert result.returncode == 0, f"{shlex.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def log(self, name: str) -> str:
        return next(log for started, _process, log in self.started if started == name).read_text(errors="replace")

    def assert_running(self) -> None:
        for name, process, log in self.started:
            assert process.poll() is None, f"{name} exited with {process.returncode}:\n{log.read_text()}"

    def stop(self) -> None:
        # SIGTERM first: gunicorn and Celery shut down their own children on it.
        for _name, process, _log in self.started:
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for _name, process, _log in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(timeout=10)

    def dump_logs(self) -> None:
        for name, _process, log in self.started:
            print(f"\n===== {name} =====\n{log.read_text(errors='replace')[-20000:]}")


@pytest.fixture
def fresh_database() -> Iterator[dict[str, str]]:
    """An empty database on the test server; the test migrates it with the deployment's release step."""
    if not PG_URL:
        service_missing("PostgreSQL for the deployment smoke test")
    server = make_url(normalize_database_url(PG_URL))
    name = f"engpass_smoke_{os.getpid()}_{uuid4().hex[:6]}"
    role = f"engpass_smoke_{uuid4().hex[:6]}"
    admin = make_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    owner = server.set(database=name)
    app = owner.set(username=role, password=APP_ROLE_PASSWORD)
    yield {
        "owner": owner.render_as_string(hide_password=False),
        "app": app.render_as_string(hide_password=False),
        "role": role,
    }
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        # The role is cluster-wide; its grants went with the database.
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
    admin.dispose()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server of this test's own: the broker's queues and the rate limits are nobody else's."""
    binary = shutil.which("redis-server")
    if binary is None:
        # Without the server binary, the Redis the other tests use (the processes only add a queue there).
        if not REDIS_URL:
            service_missing("redis-server or ENGPASS_TEST_REDIS_URL")
        yield REDIS_URL
        return
    port = free_port()
    # No persistence: the broker's state lives and dies with the test.
    options = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    process = subprocess.Popen(
        [binary, *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        try:
            return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    try:
        wait_until("redis-server", answers, 30)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def csrf_token(page: requests.Response) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {page.url}"
    return match.group(1)


def test_a_whole_cycle_on_the_deployments_processes(
    fresh_database: dict[str, str], private_redis: str, smtp_server: Callable[..., Any], tmp_path: Path
) -> None:
    commands = procfile_commands()
    smtp = smtp_server()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("ENGPASS_", "GUNICORN_"))},
        # The virtualenv's console scripts (engpass, gunicorn, celery), as the image's PATH has them.
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join([str(REPO / "platform"), str(REPO)]),
        "PORT": str(port),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "CELERY_BEAT_SCHEDULE": str(tmp_path / "celerybeat-schedule"),
        "ENGPASS_DATABASE_URL": fresh_database["app"],
        "ENGPASS_MIGRATION_DATABASE_URL": fresh_database["owner"],
        "ENGPASS_REDIS_URL": private_redis,
        "ENGPASS_SMTP_URL": smtp.url,
        "ENGPASS_SECRET_KEY": "smoke-test-secret-key-smoke-test-secret-key",
        "ENGPASS_BASE_URL": base,
        "ENGPASS_INSTANCE_DIR": str(tmp_path / "instance"),
        "ENGPASS_EXPORT_DIR": str(tmp_path / "exports"),
    }
    processes = Processes(tmp_path, env)
    passed = False
    try:
        # The release step, then the role the processes connect as.
        processes.run("/bin/sh", "-c", commands["release"])
        processes.run(
            "engpass", "db", "create-app-role", "--name", fresh_database["role"], "--password", APP_ROLE_PASSWORD
        )
        for name in ("web", "worker", "scheduler"):
            processes.start(name, commands[name])

        def healthy() -> bool:
            processes.assert_running()
            try:
                return requests.get(f"{base}/healthz", timeout=10).status_code == 200
            except requests.RequestException:
                # Not listening yet, or a worker still building the app on a busy machine.
                return False

        wait_until("/healthz to answer 200", healthy)
        assert requests.get(f"{base}/livez", timeout=10).status_code == 200

        # Sign up through the UI's form.
        browser = requests.Session()
        signup = browser.get(f"{base}/signup", timeout=10)
        email = "it@rollout.example"
        response = browser.post(
            f"{base}/signup",
            data={
                "csrf_token": csrf_token(signup),
                "name": "Ines Technik",
                "email": email,
                "company": "Rollout Probe GmbH",
                "password": PASSWORD,
            },
            timeout=10,
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text
        slug = re.search(r"/o/([^/]+)/", response.headers["Location"]).group(1)

        # The welcome mail travels outbox → broker → a Celery worker → SMTP.
        wait_until("the welcome e-mail", lambda: any(email in r.rcpt_tos for r in smtp.handler.received))

        # A whole cycle through the API, with a token from the CLI.
        token = processes.run("engpass", "tokens", "create", "--org", slug, "--email", email).strip()
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"

        def call(method: str, url: str, expected: int = 200, **kwargs: Any) -> dict[str, Any]:
            answer = api.request(method, f"{base}/api/v1{url}", timeout=10, **kwargs)
            assert answer.status_code == expected, f"{method} {url}: {answer.status_code} {answer.text}"
            return answer.json()

        cycle = call("POST", "/cycles", 201, json=NEW_CYCLE)
        cycle_id = cycle["id"]
        call("PATCH", f"/cycles/{cycle_id}", json=BASELINE)
        solution = {"solution_what": "Vorlage", "solution_type": "other", "effort_days": 6, "one_off_cost": "100"}
        assert call("PATCH", f"/cycles/{cycle_id}", json=solution)["stage"] == "solution"
        start = date.today() - timedelta(days=20)
        assert call("PATCH", f"/cycles/{cycle_id}", json={"prototype_start": start.isoformat()})["stage"] == "prototype"
        measured = {"measured_on": date.today().isoformat(), "kpi_value": 4, "hours_per_week": 6}
        call("POST", f"/cycles/{cycle_id}/measurements", 201, json=measured)
        assert call("GET", f"/cycles/{cycle_id}")["stage"] == "result"
        decided = call(
            "PATCH",
            f"/cycles/{cycle_id}",
            json={
                "decision": "scale",
                "decision_reason": "Wirkt",
                "lessons_worked": "Vorlage",
                "lessons_failed": "Export",
                "lessons_differently": "Früher messen",
            },
        )
        assert decided["stage"] == "decided"
        # docs/business-case.md, Sabine's numbers: 8 hours a week saved.
        assert call("GET", f"/cycles/{cycle_id}/business-case")["savings_per_year"] == "27040.00"
        # The next cycle's prototype is past its target date: the digest's to-do list has it. (A fresh
        # organization has no past week to report on; without a to-do its members are not written to.)
        following = {"title": "Rechnungen gehen spät raus", "category": "quoting"}
        next_id = call("POST", "/cycles", 201, json=following)["id"]
        call("PATCH", f"/cycles/{next_id}", json=BASELINE)
        call("PATCH", f"/cycles/{next_id}", json=solution)
        overdue = {"prototype_start": (date.today() - timedelta(days=40)).isoformat()}
        assert call("PATCH", f"/cycles/{next_id}", json=overdue)["stage"] == "prototype"

        # The UI, logged in afresh: the dashboard and the cycle's page show it.
        browser = requests.Session()
        login = browser.get(f"{base}/login", timeout=10)
        response = browser.post(
            f"{base}/login",
            data={"csrf_token": csrf_token(login), "email": email, "password": PASSWORD},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        dashboard = browser.get(f"{base}/o/{slug}/", timeout=10)
        assert dashboard.status_code == 200 and "Rollout Probe GmbH" in dashboard.text
        page = browser.get(cycle["web_url"], timeout=10)
        assert page.status_code == 200 and "Angebote dauern 9 Tage" in page.text

        # The weekly digest, sent by hand as docs/operations.md describes.
        processes.run("engpass", "digest", "send-due", "--now")

        def digest() -> Any:
            return next(
                (
                    r
                    for r in smtp.handler.received
                    if email in r.rcpt_tos and "Rollout Probe GmbH:" in str(r.message["Subject"])
                ),
                None,
            )

        received = wait_until("the digest e-mail", digest)
        assert received.message["To"].addresses[0].addr_spec == email

        # The scheduler's periodic outbox sweep (every 30 s) reaches a worker through the broker.
        sweep = re.compile(r"Task engpass\.outbox\.sweep\[[^]]+\] succeeded")
        wait_until("a scheduled task run by a worker", lambda: sweep.search(processes.log("worker")))
        processes.assert_running()
        passed = True
    finally:
        processes.stop()
        if not passed:
            processes.dump_logs()
