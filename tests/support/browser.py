"""What the real-browser tests share: Debian's chromium, a live server on its own database, page checks.

Python's Playwright drives /usr/bin/chromium (Playwright's own browser download does not work here).
The usual fixtures keep every test inside a rolled-back transaction that a server thread cannot see,
so a browser test serves the app from an SQLite file of its own, migrated and filled by the test.
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from alembic import command
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from engpass import create_app
from engpass.cli.db import alembic_config
from engpass.db import db
from engpass.outbox.service import EXTENSION_KEY
from engpass.settings import Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REQUIRE_SERVICES = os.environ.get("ENGPASS_REQUIRE_SERVICES") == "1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
T = TypeVar("T")


@contextmanager
def live_app(root: Path, setup: Callable[[Session], T]) -> Iterator[tuple[str, T]]:
    """Serve the app from ``root``'s own SQLite file, after ``setup`` filled it; yields (base url, setup's result)."""
    url = f"sqlite:///{root / 'engpass.sqlite3'}"
    command.upgrade(alembic_config(url), "head")
    # create_app points the process-wide database at this file; put the previous one back afterwards.
    previous_engine, previous_kw = db.engine, dict(db.factory.kw)
    app = create_app(
        Settings.from_env(
            {
                "database_url": url,
                "migration_database_url": url,
                "instance_dir": str(root / "instance"),
                "secret_key": "browser-test-secret",
                "redis_url": "",
                "smtp_url": "",
                "base_url": "http://127.0.0.1",
                "rate_limits_enabled": False,
            }
        )
    )
    app.extensions[EXTENSION_KEY] = lambda *_args: None  # no broker: mails and trend jobs are not the point here
    # Plain sessions on a real engine, whatever an earlier test's fixture left configured.
    db.factory.configure(join_transaction_mode="conditional_savepoint")
    # Inside the app, as the CLI runs it: a setup may read the app's URL map through current_app.
    with app.app_context(), db.transaction() as session:
        prepared = setup(session)
    server = make_server("127.0.0.1", 0, closing_when_drained(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="engpass-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", prepared
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        db.engine.dispose()
        db.engine = previous_engine
        db.factory.kw.clear()
        db.factory.kw.update(previous_kw)


def closing_when_drained(app: WSGIApplication) -> WSGIApplication:
    """Close each answer's iterable as soon as the server has drained it.

    Werkzeug's development server closes it only after reading what the client may still send; when Chromium
    resets the connection meanwhile (a navigation cancels the page's stylesheets), that read raises and the
    static file send_file opened is left to the garbage collector, which pytest reports as a ResourceWarning
    in whatever test runs then. A generator's ``finally`` runs on exhaustion, and on collection at the latest.
    """

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        answer = app(environ, start_response)
        try:
            yield from answer
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()

    return application


class PageWatch:
    """Console errors (CSP violations among them), failed requests, server errors and other origins."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.base_url = base_url
        self.problems: list[str] = []
        self.static_loaded: set[str] = set()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _failed(self, request: Any) -> None:
        # A navigation cancels what the previous page still loads (the favicon, typically): not a fault.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _console(self, message: Any) -> None:
        # A refused form answers 422 on purpose; Chromium logs every 4xx document as an error.
        if message.type == "error" and "status of 422" not in message.text:
            self.problems.append(f"console error: {message.text}")

    def _response(self, response: Any) -> None:
        path = response.url.removeprefix(self.base_url)
        if response.status >= 500:
            self.problems.append(f"{response.status} for {path}")
        if path.startswith("/static/"):
            if response.status >= 400:
                self.problems.append(f"{response.status} for {path}")
            else:
                self.static_loaded.add(path.split("?")[0])
        elif not response.url.startswith(self.base_url):
            self.problems.append(f"request to another origin: {response.url}")


@contextmanager
def watched_page(
    browser: Any, base_url: str, width: int, height: int = 900, **context_options: Any
) -> Iterator[tuple[Any, PageWatch]]:
    """A page in a German browser context of its own, watched from its first request; the context is closed
    afterwards, whatever the test did."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="de-DE", **context_options)
    try:
        page = context.new_page()
        yield page, PageWatch(page, base_url)
    finally:
        context.close()


def log_in(page: Any, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit].button--primary")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def assert_fits(page: Any, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"page is {overflow}px wide in a {width}px viewport"


PHONE = 375
# Every element's right edge, measured in the page after layout.
OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [...document.body.querySelectorAll('*')].filter((el) => el.getBoundingClientRect().right > width + 1);
  return {scrollWidth: document.scrollingElement.scrollWidth, wide: wide.map((el) => el.outerHTML.slice(0, 80))};
}"""


def assert_fits_a_phone(browser: Any, html: str, shot: Path) -> None:
    """``html`` in Chromium at 375 px: nothing wider than the screen; the screenshot kept in ``shot``."""
    page = browser.new_page(viewport={"width": PHONE, "height": 800})
    try:
        page.set_content(html)
        found = page.evaluate(OVERFLOW)
        page.screenshot(path=shot, full_page=True)
    finally:
        page.close()
    assert found["scrollWidth"] <= PHONE and found["wide"] == [], found
