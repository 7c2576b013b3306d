"""Configuration from ENGPASS_* variables, the embedded defaults and /healthz (delivery: test_notifications_smtp)."""

import os
import stat
import time

import pytest

from engpass import create_app
from engpass.settings import Settings, SettingsError
from tests.support.app import build_app


def test_environment_overrides_every_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("ENGPASS_DATABASE_URL", "postgres://u:p@db.example:5432/engpass")
    monkeypatch.setenv("ENGPASS_REDIS_URL", "redis://cache.example:6379/0")
    monkeypatch.setenv("ENGPASS_SECRET_KEY", "from-env")
    monkeypatch.setenv("ENGPASS_BASE_URL", "https://engpass.example")
    monkeypatch.setenv("ENGPASS_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("ENGPASS_RATE_LIMITS_ENABLED", "false")
    monkeypatch.setenv("ENGPASS_PASSWORD_RESET_MAX_AGE", "600")
    settings = Settings.from_env()
    assert settings.database_url == "postgresql+psycopg://u:p@db.example:5432/engpass"
    assert settings.migration_database_url == settings.database_url
    assert settings.broker_url == "redis://cache.example:6379/0"
    assert settings.secret_key == "from-env"
    assert settings.uses_https
    assert settings.rate_limits_enabled is False
    assert settings.password_reset_max_age == 600


def test_embedded_defaults_live_in_the_instance_folder(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("ENGPASS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ENGPASS_INSTANCE_DIR", str(tmp_path / "instance"))
    settings = Settings.from_env()
    key_file = tmp_path / "instance" / "secret_key"
    assert settings.database_url == f"sqlite:///{tmp_path / 'instance' / 'engpass.sqlite3'}"
    assert settings.broker_url.startswith("sqla+sqlite:///")
    assert settings.outbox_dir == str(tmp_path / "instance" / "outbox")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(settings.secret_key) >= 40
    assert Settings.from_env().secret_key == settings.secret_key, "generated once, then reused"


def test_healthz_stays_ready_but_degraded_when_only_the_broker_is_unreachable(settings, connection):
    # Pages and edits work without Redis (the outbox keeps the work): the pod must stay in service.
    settings.redis_url = "redis://127.0.0.1:1/0"
    client = build_app(settings, connection).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "degraded",
        "database": "ok",
        "broker": "unreachable",
        "broker_kind": "redis",
    }


def test_healthz_is_503_when_the_database_is_unreachable(settings, tmp_path):
    settings.database_url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    response = create_app(settings).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_healthz_with_real_redis(settings, connection, redis_url):
    settings.redis_url = redis_url
    response = build_app(settings, connection).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["broker_kind"] == "redis" and response.json["status"] == "ok"


def test_rate_limits_are_kept_in_redis_when_configured(settings, connection, redis_url, make_user):
    import redis

    settings.redis_url = redis_url
    settings.rate_limits_enabled = True
    settings.account_rate_limit = "2 per minute"
    app = build_app(settings, connection)
    email = f"limited-{time.time_ns()}@example.com"
    client = app.test_client()
    statuses = [client.post("/login", data={"email": email, "password": "wrong"}).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    keys = redis.Redis.from_url(redis_url).keys("LIMITS:*account:*")
    assert any(email.encode() in key for key in keys)


def test_security_headers_and_no_cdn(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "https://" not in response.text.split("<body")[0]


def test_empty_variables_mean_unset(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENGPASS_INSTANCE_DIR", "")
    monkeypatch.setenv("ENGPASS_DATABASE_URL", "")
    monkeypatch.setenv("ENGPASS_SECRET_KEY", "set")
    settings = Settings.from_env()
    assert settings.instance_dir.endswith("instance")
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("engpass.sqlite3")
    assert list(tmp_path.iterdir()) == []


def test_behind_a_trusted_proxy_the_client_address_counts_for_rate_limits(settings, connection):
    settings.proxy_count = 1
    settings.rate_limits_enabled = True
    settings.login_rate_limit = "2 per minute"
    client = build_app(settings, connection).test_client()

    def attempt(ip):
        return client.post(
            "/login",
            data={"email": f"{ip}@example.com", "password": "wrong"},
            headers={"X-Forwarded-For": ip},
        ).status_code

    assert [attempt("203.0.113.1") for _ in range(3)] == [401, 401, 429]
    assert attempt("203.0.113.2") == 401


@pytest.mark.parametrize(
    "placeholder",
    ["CHANGE-ME-python3-c-import-secrets-print-secrets-token-urlsafe-48", "change-me", "  CHANGE-ME  "],
)
def test_the_example_secret_key_is_refused(tmp_path, placeholder):
    with pytest.raises(SettingsError, match="ENGPASS_SECRET_KEY"):
        Settings.from_env({"secret_key": placeholder, "instance_dir": str(tmp_path)})


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("ENGPASS_DIGEST_BATCH_SIZE", "0"),
        ("ENGPASS_DIGEST_RETRY_BASE_SECONDS", "-5"),
        ("ENGPASS_DIGEST_SWEEP_INTERVAL_SECONDS", "5m"),
        ("ENGPASS_PROXY_COUNT", "1.5"),
        ("ENGPASS_STATEMENT_TIMEOUT_MS", "３０"),
        ("ENGPASS_PASSWORD_RESET_MAX_AGE", "1e3"),
    ],
)
def test_a_number_setting_that_cannot_be_read_stops_the_start_naming_it(monkeypatch, tmp_path, variable, raw):
    monkeypatch.setenv("ENGPASS_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv(variable, raw)
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env()


def test_zero_still_means_none_where_the_setting_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("ENGPASS_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("ENGPASS_STATEMENT_TIMEOUT_MS", " 0 ")
    monkeypatch.setenv("ENGPASS_DIGEST_SWEEP_GRACE_SECONDS", "0")
    settings = Settings.from_env()
    assert (settings.statement_timeout_ms, settings.digest_sweep_grace_seconds) == (0, 0)
