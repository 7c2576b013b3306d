"""What `make run` relies on, short of starting the three processes: the CLI steps, the Procfiles, gunicorn's
config, and a source layout that does not shadow the standard library's ``platform`` module."""

import platform
import re
import runpy
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

import pytest
from honcho.environ import parse_procfile
from sqlalchemy import func, select

from engpass.cli import cli
from engpass.demo.data import DEMO_ORGS, DEMO_PASSWORD
from engpass.organizations.models import Membership, Organization, Role
from engpass.settings import REPO_ROOT, Settings

DEPLOY = REPO_ROOT / "deploy"


@pytest.fixture
def runner(app, monkeypatch):
    # FlaskGroup marks the process as run from the CLI; keep that out of the other tests.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    return app.test_cli_runner()


def _demo_counts(session):
    names = [spec.name for spec in DEMO_ORGS]
    orgs = session.scalar(select(func.count()).select_from(Organization).where(Organization.name.in_(names)))
    memberships = session.scalar(
        select(func.count()).select_from(Membership).join(Organization).where(Organization.name.in_(names))
    )
    return orgs, memberships


def test_demo_prints_the_logins_and_is_idempotent(runner, session):
    first = runner.invoke(cli, ["demo"])
    assert first.exit_code == 0, first.output
    after_first = _demo_counts(session)

    second = runner.invoke(cli, ["demo"])
    assert second.exit_code == 0, second.output

    expected_members = sum(len(spec.members) for spec in DEMO_ORGS)
    assert after_first == (len(DEMO_ORGS), expected_members)
    assert _demo_counts(session) == after_first
    assert second.output == first.output
    assert f"password for all: {DEMO_PASSWORD}" in first.output
    lines = first.output.splitlines()
    assert any("owner@demo.example" in line and "owner · Müller Metallbau GmbH" in line for line in lines)
    assert any("consultant@demo.example" in line and "Weber & Partner" in line for line in lines)


def test_orgs_create_prints_the_german_slug(runner, session):
    result = runner.invoke(
        cli,
        ["orgs", "create", "--name", "Müller Bau", "--owner-email", "x@example.com", "--password", "x-password-123"],
    )
    assert result.exit_code == 0, result.output
    assert result.output == "mueller-bau\n"
    owner_role = session.scalar(select(Membership.role).join(Organization).where(Organization.slug == "mueller-bau"))
    assert owner_role == Role.owner

    # The owner exists now, so no password is needed; the slug stays unique.
    again = runner.invoke(cli, ["orgs", "create", "--name", "Müller Bau", "--owner-email", "x@example.com"])
    assert again.exit_code == 0, again.output
    assert again.output == "mueller-bau-2\n"


def test_the_platform_folder_does_not_shadow_the_standard_library():
    assert not (REPO_ROOT / "platform" / "__init__.py").exists()
    # From the repository root, where `platform/` sits on sys.path[0], with the libraries that import it.
    result = subprocess.run(
        [sys.executable, "-c", "import platform, sqlalchemy, celery; print(platform.system())"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == platform.system()


def test_procfile_dev_runs_web_worker_and_scheduler():
    processes = parse_procfile((DEPLOY / "Procfile.dev").read_text()).processes
    assert list(processes) == ["web", "worker", "scheduler"]
    assert "gunicorn --config deploy/gunicorn.conf.py --bind 127.0.0.1:$PORT 'engpass:create_app()'" in processes["web"]
    assert "celery --app workers worker" in processes["worker"]
    assert "celery --app workers beat" in processes["scheduler"]
    assert "--schedule instance/" in processes["scheduler"]
    bin_dir = Path(sys.executable).parent
    for name in ("honcho", "gunicorn", "celery", "engpass"):
        assert (bin_dir / name).exists(), f"{name} is not installed next to {sys.executable}"
    assert "deploy/Procfile.dev" in (REPO_ROOT / "Makefile").read_text()


def test_production_procfile_has_every_process_type():
    processes = parse_procfile((DEPLOY / "Procfile").read_text()).processes
    assert set(processes) == {"release", "web", "worker", "scheduler"}
    assert processes["release"] == "engpass db upgrade"
    assert "--bind" not in processes["web"]  # the port comes from gunicorn.conf.py


@pytest.mark.parametrize(
    ("env", "bind"),
    [
        ({}, "0.0.0.0:8000"),
        ({"PORT": "6000"}, "0.0.0.0:6000"),
        ({"PORT": "", "GUNICORN_BIND": ""}, "0.0.0.0:8000"),
        ({"PORT": "6000", "GUNICORN_BIND": "unix:/run/engpass.sock"}, "unix:/run/engpass.sock"),
    ],
)
def test_gunicorn_config_binds_port_default_8000(monkeypatch, env, bind):
    for name in ("PORT", "GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["bind"] == bind
    assert config["workers"] == 2
    assert config["preload_app"] is True
    assert config["control_socket_disable"] is True


def test_make_run_on_another_port_links_the_mails_to_that_port(tmp_path, app, client, make_user, make_org, monkeypatch):
    """`PORT=8080 make run` with stand-ins for the installed commands: honcho (and so web, worker and beat)
    gets ENGPASS_BASE_URL on port 8080, and a mail sent under those settings links to port 8080."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "engpass").write_text("#!/bin/sh\nexit 0\n")
    (stubs / "honcho").write_text(f"#!/bin/sh\nenv > {tmp_path / 'honcho.env'}\n")
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    monkeypatch.delenv("ENGPASS_BASE_URL", raising=False)
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", "install", "run", "PORT=8080", f"BIN={stubs}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    env = dict(line.split("=", 1) for line in (tmp_path / "honcho.env").read_text().splitlines() if "=" in line)
    assert env["PORT"] == "8080"
    assert env["ENGPASS_BASE_URL"] == "http://127.0.0.1:8080"

    monkeypatch.setenv("ENGPASS_BASE_URL", env["ENGPASS_BASE_URL"])
    app.extensions["engpass.settings"].base_url = Settings.from_env().base_url
    make_org(owner=make_user(email="port@example.com"))
    assert client.post("/password/forgot", data={"email": "port@example.com"}).status_code == 302
    (mail,) = Path(app.extensions["engpass.settings"].outbox_dir).glob("*.eml")
    parts = message_from_bytes(mail.read_bytes()).walk()
    text = "".join(part.get_payload(decode=True).decode() for part in parts if not part.is_multipart())
    links = re.findall(r"https?://[^\s\"'<>]+", text)
    assert links
    assert all(link.startswith("http://127.0.0.1:8080/") for link in links), links


def test_make_run_keeps_a_base_url_that_is_set(tmp_path, monkeypatch):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "engpass").write_text("#!/bin/sh\nexit 0\n")
    (stubs / "honcho").write_text(f"#!/bin/sh\nenv > {tmp_path / 'honcho.env'}\n")
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    monkeypatch.setenv("ENGPASS_BASE_URL", "https://engpass.example.com")
    subprocess.run(
        ["make", "-s", "-o", "install", "run", "PORT=8080", f"BIN={stubs}"], cwd=REPO_ROOT, check=True, timeout=60
    )
    assert "ENGPASS_BASE_URL=https://engpass.example.com\n" in (tmp_path / "honcho.env").read_text()
