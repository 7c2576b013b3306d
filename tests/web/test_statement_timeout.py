"""PostgreSQL cancels a web request's statement that runs (or waits for a lock) longer than the statement timeout:
the page answers 503 with Retry-After instead of holding a web worker, nothing of it is saved, and the same
request succeeds once the lock is gone. Workers run without one by default. See docs/reliability.md."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engpass import create_app
from engpass.accounts.service import sign_up
from engpass.db import db, make_engine
from engpass.settings import Settings

PASSWORD = "x" * 12
TIMEOUT_MS = 1500


def _show_timeout(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SHOW statement_timeout")).scalar()


def test_a_slow_statement_is_cancelled_at_the_timeout(postgres):
    engine = make_engine(postgres["app"], statement_timeout_ms=200)
    try:
        with engine.connect() as conn, pytest.raises(OperationalError, match="statement timeout"):
            conn.execute(text("SELECT pg_sleep(5)"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1, "the pool goes on with a good connection"
    finally:
        engine.dispose()
    untimed = make_engine(postgres["app"])
    try:
        assert _show_timeout(untimed) == "0"
    finally:
        untimed.dispose()


def test_the_web_gets_the_setting_and_workers_their_own(postgres, tmp_path, monkeypatch):
    monkeypatch.setenv("ENGPASS_DATABASE_URL", postgres["app"])
    monkeypatch.setenv("ENGPASS_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("ENGPASS_WORKER_STATEMENT_TIMEOUT_MS", "600000")
    previous = db.engine
    try:
        create_app(Settings.from_env())
        assert _show_timeout(db.engine) == "30s", "the web's default"

        import workers

        workers._built.clear()
        try:
            assert workers.flask_app.extensions["engpass.settings"].statement_timeout_ms == 600_000
            assert _show_timeout(db.engine) == "10min"
        finally:
            workers._built.clear()
    finally:
        db.engine.dispose()
        db.engine = previous
        db.factory.configure(bind=previous)


def test_a_request_stuck_behind_a_lock_answers_503_and_saves_nothing(postgres, tmp_path):
    owner = make_engine(postgres["owner"])
    with Session(owner, expire_on_commit=False) as s:
        user, org = sign_up(s, name="Zeitlimit", email="timeout@example.com", password=PASSWORD, company="Zeit GmbH")
        s.commit()
    previous = db.engine
    settings = Settings.from_env(
        {
            "database_url": postgres["app"],
            "instance_dir": str(tmp_path / "instance"),
            "secret_key": "timeout-secret",
            "redis_url": "",
            "rate_limits_enabled": False,
            "statement_timeout_ms": TIMEOUT_MS,
        }
    )
    app = create_app(settings)
    app.config.update(WTF_CSRF_ENABLED=False)
    web = app.test_client()
    try:
        assert web.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
        form = {"title": "Angebote", "category": "quoting", "why": "", "owner_id": user.id, "sponsor_id": user.id}
        created = web.post(f"/o/{org.slug}/cycles/new", data=form)
        assert created.status_code == 302
        cycle_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
        edit = f"/o/{org.slug}/cycles/{cycle_id}/bottleneck"
        title = text("SELECT title FROM cycles WHERE id = :id")

        with owner.connect() as holding:
            holding.execute(text("SELECT 1 FROM cycles WHERE id = :id FOR UPDATE"), {"id": cycle_id})
            stuck = web.post(edit, data={**form, "title": "Angebote dauern"})
            assert stuck.status_code == 503
            assert stuck.headers["Retry-After"] == "30"
            holding.rollback()

        with owner.connect() as conn:
            assert conn.execute(title, {"id": cycle_id}).scalar() == "Angebote", "nothing of it was saved"
        assert web.get(f"/o/{org.slug}/").status_code == 200, "the next request is served as usual"
        assert web.post(edit, data={**form, "title": "Angebote dauern"}).status_code == 302
        with owner.connect() as conn:
            assert conn.execute(title, {"id": cycle_id}).scalar() == "Angebote dauern"
    finally:
        db.engine.dispose()
        db.engine = previous
        db.factory.configure(bind=previous)
        with owner.begin() as conn:
            conn.execute(text("DELETE FROM organizations WHERE id = :id"), {"id": org.id})
            conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})
        owner.dispose()
