"""Test fixtures: one migrated database per test run, one rolled-back transaction per test.

SQLite by default; PostgreSQL when ``ENGPASS_TEST_DATABASE_URL`` is set. On PostgreSQL
the app connects as a role that is neither owner nor superuser, so every test also
runs under row-level security. ``ENGPASS_REQUIRE_SERVICES=1`` turns a missing or
unreachable service into a failure instead of a skip.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, event, make_url, text
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.models import User
from engpass.accounts.service import create_user
from engpass.cli.db import alembic_config
from engpass.db import db, make_engine
from engpass.organizations.models import Organization, OrgKind, Role
from engpass.organizations.service import add_member, create_organization
from engpass.outbox.service import EXTENSION_KEY
from engpass.roles import grant_app_role
from engpass.settings import Settings
from tests.support.accounts import PASSWORD
from tests.support.app import APP_ROLE, APP_ROLE_PASSWORD, RecordingPublisher, build_app
from tests.support.catalogs import catalogs_problem
from tests.support.cycles import scaled_quoting_cycle
from tests.support.services import PG_URL, REDIS_URL, REQUIRE_SERVICES, service_missing


def pytest_configure(config: pytest.Config) -> None:
    problem = catalogs_problem()
    if problem:
        raise pytest.UsageError(problem)


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt is deliberately slow; tests create hundreds of users. Verification reads the method from
    the hash, so the login code under test is unchanged."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    import engpass.accounts.models as account_models

    monkeypatch.setattr(
        account_models, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1000")
    )


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Owner and app URLs of a freshly migrated database for this test run."""
    if REQUIRE_SERVICES and not PG_URL:
        pytest.fail("ENGPASS_REQUIRE_SERVICES=1 needs ENGPASS_TEST_DATABASE_URL")
    if not PG_URL:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        url = f"sqlite:///{path}"
        command.upgrade(alembic_config(url), "head")
        yield {"owner": url, "app": url, "kind": "sqlite"}
        return

    from engpass.settings import normalize_database_url

    server = make_url(normalize_database_url(PG_URL))
    name = f"engpass_test_{os.getpid()}_{uuid4().hex[:6]}"
    admin = make_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    owner_url = server.set(database=name)
    owner = owner_url.render_as_string(hide_password=False)
    command.upgrade(alembic_config(owner), "head")
    owner_engine = make_engine(owner)
    with owner_engine.begin() as conn:
        grant_app_role(conn, APP_ROLE, APP_ROLE_PASSWORD)
    owner_engine.dispose()
    app_url = owner_url.set(username=APP_ROLE, password=APP_ROLE_PASSWORD).render_as_string(hide_password=False)
    yield {"owner": owner, "app": app_url, "kind": "postgresql", "name": name}
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def is_postgres(databases: dict[str, str]) -> bool:
    return databases["kind"] == "postgresql"


@pytest.fixture
def postgres(databases: dict[str, str]) -> dict[str, str]:
    """For tests that prove PostgreSQL-only behaviour (row-level security, migrations there)."""
    if databases["kind"] != "postgresql":
        service_missing("PostgreSQL")
    return databases


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        service_missing("Redis")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis at {REDIS_URL} unreachable: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    return REDIS_URL


@pytest.fixture(scope="session")
def engine(databases: dict[str, str]) -> Iterator[Engine]:
    engine = make_engine(databases["app"])
    yield engine
    engine.dispose()


@pytest.fixture
def settings(databases: dict[str, str], tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "database_url": databases["app"],
            "migration_database_url": databases["owner"],
            "instance_dir": str(tmp_path / "instance"),
            "secret_key": "test-secret-key",
            "redis_url": "",
            "smtp_url": "",
            "base_url": "http://engpass.test",
            "rate_limits_enabled": False,
        }
    )


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One transaction per test, rolled back at the end; sessions commit to savepoints inside it."""
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    db.session.remove()
    outer.rollback()
    conn.close()
    tenancy.clear()


@pytest.fixture
def app(settings: Settings, connection: Connection) -> Iterator[Flask]:
    """No app context stays pushed: each test request then gets its own, as in production
    (fresh ``g``, session removed at teardown). Use ``app_context`` for code that needs one."""
    app = build_app(settings, connection)
    yield app
    db.factory.configure(bind=db.engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def publisher(app: Flask) -> RecordingPublisher:
    return app.extensions[EXTENSION_KEY]


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """The test's own session on the test transaction, apart from the sessions of requests."""
    session = db.factory()
    yield session
    session.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    def _make(email: str | None = None, name: str = "Test User", password: str = PASSWORD, **kw: Any) -> User:
        user = create_user(session, email or f"user-{uuid4().hex[:8]}@example.com", name, password, **kw)
        session.commit()
        return user

    return _make


@pytest.fixture
def make_org(session: Session, make_user: Callable[..., User]) -> Callable[..., Organization]:
    def _make(
        name: str = "Beispiel GmbH",
        owner: User | None = None,
        kind: OrgKind = OrgKind.company,
        members: dict[User, Role] | None = None,
    ) -> Organization:
        org = create_organization(session, name, owner or make_user(), kind=kind)
        for user, role in (members or {}).items():
            add_member(session, org, user, role)
        session.commit()
        return org

    return _make


@pytest.fixture
def sabines_company(session: Session, make_user: Callable[..., User], make_org: Callable[..., Organization]) -> Any:
    """Müller Metallbau with its owner, an admin and Sabine's decided quoting cycle: (org, owner, admin, cycle)."""
    owner = make_user(name="Jürgen Müller")
    admin = make_user(name="Ada Admin")
    org = make_org("Müller Metallbau GmbH", owner=owner, members={admin: Role.admin})
    with tenancy.tenant_context(session, org.id):
        cycle = scaled_quoting_cycle(session, owner, title="Angebote schneller")
        session.commit()
    return org, owner, admin, cycle


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., Any]:
    def _login(user: User, password: str = PASSWORD) -> Any:
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.text
        return response

    return _login


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(connection: Connection) -> Callable[[], Any]:
    """``with count_queries() as counter:`` counts the SQL statements run inside the block."""

    @contextmanager
    def _count() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            # The RLS setting and savepoints are transaction plumbing, not page queries.
            if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK TO|SELECT set_config)", statement):
                counter.statements.append(statement)

        event.listen(connection, "before_cursor_execute", _record)
        try:
            yield counter
        finally:
            event.remove(connection, "before_cursor_execute", _record)

    return _count


@pytest.fixture
def live_engine(databases: dict[str, str]) -> Iterator[Engine]:
    """The app role's engine on the real database: what it commits, other processes see."""
    engine = make_engine(databases["app"])
    yield engine
    engine.dispose()


@pytest.fixture
def celery(app: Flask) -> Any:
    """The workers' Celery app around the test app, tasks imported, for in-process ``apply``."""
    from workers.celery_app import make_celery

    celery = make_celery(app)
    celery.loader.import_default_modules()
    return celery


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    from tests.support.browser import CHROMIUM

    if not CHROMIUM.exists():
        if REQUIRE_SERVICES:
            pytest.fail(f"{CHROMIUM} is required (ENGPASS_REQUIRE_SERVICES=1); run .ci/install-system-packages")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Path]:
    """Screenshots of a test; copied to ENGPASS_SCREENSHOT_DIR when that is set, to look at them."""
    import shutil

    directory = tmp_path / "screenshots"
    directory.mkdir()
    yield directory
    keep = os.environ.get("ENGPASS_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in directory.glob("*.png"):
            shutil.copy2(png, Path(keep) / png.name)


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., Any]]:
    """``smtp_server(mode=..., scheme=..., **aiosmtpd_options)``: a real SMTP server on loopback (aiosmtpd),
    stopped after the test; ``.handler`` records what arrived and says how to answer."""
    from tests.support.smtp import Handler, LoopbackController, SmtpServer

    started: list[LoopbackController] = []

    def _start(mode: str = "accept", scheme: str = "smtp", credentials: str = "", **options: Any) -> SmtpServer:
        handler = Handler(mode=mode)
        controller = LoopbackController(handler, **options)
        controller.start()
        started.append(controller)
        return SmtpServer(handler, controller, scheme, credentials)

    yield _start
    for controller in started:
        controller.stop()
