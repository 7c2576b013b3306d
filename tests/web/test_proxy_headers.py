"""Forwarded headers count only as configured: ENGPASS_PROXY_COUNT in the app (werkzeug's ProxyFix), and
gunicorn's forwarded_allow_ips / secure_scheme_headers set from it in deploy/gunicorn.conf.py."""

import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests
from flask import request

from engpass.settings import REPO_ROOT
from tests.support.app import build_app
from tests.support.processes import free_port, wait_until

CONF = REPO_ROOT / "deploy" / "gunicorn.conf.py"
FORGED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def _app(settings, connection, proxy_count):
    settings.proxy_count = proxy_count
    app = build_app(settings, connection)
    app.add_url_rule("/_seen", "seen", lambda: {"scheme": request.scheme, "client": request.remote_addr})
    return app.test_client()


def test_without_a_proxy_a_forged_forwarded_proto_from_loopback_changes_nothing(settings, connection):
    client = _app(settings, connection, 0)
    answer = client.get("/login", headers=FORGED, environ_base=LOOPBACK)
    assert "Strict-Transport-Security" not in answer.headers
    assert client.get("/_seen", headers=FORGED, environ_base=LOOPBACK).get_json() == {
        "scheme": "http",
        "client": "127.0.0.1",
    }


def test_behind_one_configured_proxy_its_headers_count(settings, connection):
    client = _app(settings, connection, 1)
    assert "Strict-Transport-Security" in client.get("/login", headers=FORGED, environ_base=LOOPBACK).headers
    assert client.get("/_seen", headers=FORGED, environ_base=LOOPBACK).get_json() == {
        "scheme": "https",
        "client": "203.0.113.9",
    }


def _gunicorn_settings(monkeypatch, **env):
    from gunicorn.config import Config

    for name in ("ENGPASS_PROXY_COUNT", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = Config()
    for name, value in runpy.run_path(str(CONF)).items():
        if name in config.settings:
            config.set(name, value)
    return config


@pytest.mark.parametrize("count", [None, "", "0"])
def test_gunicorn_trusts_no_forwarded_header_without_a_proxy(monkeypatch, count):
    env = {} if count is None else {"ENGPASS_PROXY_COUNT": count}
    config = _gunicorn_settings(monkeypatch, **env)
    assert config.forwarded_allow_ips == []
    assert config.secure_scheme_headers == {}
    assert config.forwarder_headers == []


def test_gunicorn_trusts_the_proxy_peers_when_a_proxy_is_configured(monkeypatch):
    """gunicorn's default (loopback), or its own FORWARDED_ALLOW_IPS, which the file leaves alone."""
    config = _gunicorn_settings(monkeypatch, ENGPASS_PROXY_COUNT="1")
    assert config.forwarded_allow_ips == ["127.0.0.1", "::1"]
    assert config.secure_scheme_headers["X-FORWARDED-PROTO"] == "https"


@pytest.mark.parametrize(("count", "scheme"), [("0", "http"), ("1", "https")])
def test_a_real_gunicorn_with_the_deployment_config(tmp_path, count, scheme):
    """The same through gunicorn itself: a forged header from loopback, the scheme the app is handed."""
    (tmp_path / "echo.py").write_text(
        textwrap.dedent(
            """
            def app(environ, start_response):
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [environ["wsgi.url_scheme"].encode()]
            """
        )
    )
    port = free_port()
    env = {"PATH": str(Path(sys.executable).parent), "ENGPASS_PROXY_COUNT": count, "GUNICORN_WORKERS": "1"}
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--config",
        str(CONF),
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(tmp_path),
        "echo:app",
    ]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:

        def answer():
            try:
                return requests.get(f"http://127.0.0.1:{port}/", headers=FORGED, timeout=2).text
            except requests.ConnectionError:
                return None

        assert wait_until("gunicorn", answer) == scheme
    finally:
        server.terminate()
        server.wait(timeout=20)
