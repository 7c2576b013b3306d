"""A real browser logs in and looks at the pages, on a desk and on a phone.

Drives Debian's Chromium (``/usr/bin/chromium``) through Playwright; Playwright's own
browser download is never used. The usual fixtures keep every test inside a rolled-back
transaction that another process cannot see, so this test serves the app itself: a
migrated SQLite file, a real HTTP server on 127.0.0.1 in a thread, and a browser that
talks to it like any visitor.

Set ``ENGPASS_SCREENSHOT_DIR`` to keep the screenshots for a human to look at.
"""

from __future__ import annotations

import os
import shutil
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from werkzeug.serving import make_server

from engpass import create_app, tenancy
from engpass.accounts.service import sign_up
from engpass.cli.db import alembic_config
from engpass.db import db
from engpass.demo.cycles import SHOP, build_chain
from engpass.outbox.service import EXTENSION_KEY
from engpass.settings import Settings
from engpass.trends import service as trends

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REQUIRE_SERVICES = os.environ.get("ENGPASS_REQUIRE_SERVICES") == "1"
TRANSLATIONS = Path(__file__).resolve().parents[1] / "platform" / "engpass" / "translations"

EMAIL = "sabine@example.com"
VETERAN = "mehmet@example.com"
PASSWORD = "sicheres-passwort-42"
COMPANY = "Müller Metallbau GmbH"
WIDTHS = (1280, 375)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _compile_catalogs() -> None:
    """The German pages need the compiled catalog; a fresh clone only has the .po."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parents[1].name)
        tmp = mo_path.with_name(f".{mo_path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        if REQUIRE_SERVICES:
            pytest.fail(f"{CHROMIUM} is required (ENGPASS_REQUIRE_SERVICES=1); run .ci/install-system-packages")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    return CHROMIUM


@dataclass
class LiveServer:
    url: str
    slug: str
    veteran_slug: str


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    _compile_catalogs()
    root = tmp_path_factory.mktemp("browser")
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
    app.extensions[EXTENSION_KEY] = lambda *_args: None  # no broker: the welcome mail is not the point here
    # Plain sessions on a real engine, whatever an earlier test's fixture left configured.
    db.factory.configure(join_transaction_mode="conditional_savepoint")
    with db.transaction() as session:
        _user, org = sign_up(session, name="Sabine Müller", email=EMAIL, password=PASSWORD, company=COMPANY)
        slug = org.slug
        # A second company with a year of history, for the dashboard's charts.
        veteran, shop = sign_up(session, name="Mehmet Krause", email=VETERAN, password=PASSWORD, company="Krause")
        with tenancy.tenant_context(session, shop.id):
            build_chain(session, SHOP, date.today() - timedelta(days=3), veteran.id, seed=5)
            trends.recompute(session)
        veteran_slug = shop.slug

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="engpass-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", slug=slug, veteran_slug=veteran_slug)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        db.engine.dispose()
        db.engine = previous_engine
        db.factory.kw.clear()
        db.factory.kw.update(previous_kw)


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "screenshots"
    directory.mkdir()
    yield directory
    keep = os.environ.get("ENGPASS_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in directory.glob("*.png"):
            shutil.copy2(png, Path(keep) / png.name)


class PageWatch:
    """Collects what a visitor would never notice but a broken page produces."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.base_url = base_url
        self.problems: list[str] = []
        self.static_loaded: set[str] = set()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda request: self.problems.append(f"request failed: {request.url}"))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # Content-Security-Policy violations (an inline style, a CDN asset) arrive here as errors.
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _response(self, response: Any) -> None:
        path = response.url.removeprefix(self.base_url)
        if path.startswith("/static/"):
            if response.status >= 400:
                self.problems.append(f"{response.status} for {path}")
            else:
                self.static_loaded.add(path.split("?")[0])
        elif not response.url.startswith(self.base_url):
            self.problems.append(f"request to another origin: {response.url}")


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _assert_screenshot(path: Path, width: int) -> None:
    png_width, png_height = _png_size(path)
    assert png_width == width
    assert png_height >= 500
    # A blank or unstyled page compresses to almost nothing; a real one does not.
    assert path.stat().st_size > 15_000, f"{path.name} looks empty ({path.stat().st_size} bytes)"


def _assert_fits(page: Any, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"page is {overflow}px wide in a {width}px viewport"


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_login_and_organization_home_in_a_real_browser(browser, live_server, shots, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    page = context.new_page()
    watch = PageWatch(page, live_server.url)
    try:
        page.goto(f"{live_server.url}/login")
        assert page.locator("h1").inner_text() == "Anmelden"
        assert page.locator(".auth__aside .steps li").count() == 6
        styled = page.evaluate("getComputedStyle(document.querySelector('.button--primary')).backgroundColor")
        assert styled == "rgb(15, 123, 108)", "app.css did not apply"
        _assert_fits(page, width)
        page.screenshot(path=shots / f"login-{width}.png", full_page=True)

        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit].button--primary")
        assert page.url == f"{live_server.url}/o/{live_server.slug}/"

        assert page.locator("h1").inner_text() == COMPANY
        assert page.locator(".empty h2").inner_text() == (
            "Beginnen Sie mit dem einen Engpass, der Ihr Wachstum am stärksten bremst."
        )
        assert page.locator(".dash-welcome .button--primary").inner_text() == "Ersten Engpass benennen"
        assert page.locator(".mainnav a[aria-current=page]").inner_text() == "Übersicht"
        _assert_fits(page, width)
        page.screenshot(path=shots / f"home-{width}.png", full_page=True)

        # The user menu opens without JavaScript and stays on screen.
        page.click(".topbar__right .avatar")
        menu = page.locator(".menu--right .menu__list")
        assert menu.is_visible()
        box = menu.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        page.screenshot(path=shots / f"home-menu-{width}.png")

        assert {"/static/css/app.css", "/static/favicon.svg"} <= watch.static_loaded
        assert not watch.problems, "\n".join(watch.problems)
    finally:
        context.close()

    for name in ("login", "home"):
        _assert_screenshot(shots / f"{name}-{width}.png", width)


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_dashboard_charts_render_and_print(browser, live_server, shots, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    page = context.new_page()
    watch = PageWatch(page, live_server.url)
    try:
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=email]", VETERAN)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit].button--primary")
        assert page.url == f"{live_server.url}/o/{live_server.veteran_slug}/"
        assert page.locator(".dash-level__number").inner_text() in {"2", "3", "4"}
        charts = page.locator("svg.chart__svg")
        assert charts.count() == 5
        for i in range(5):
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 250 and box["height"] > 80, f"chart {i} collapsed: {box}"
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"chart {i} leaves the screen"
        assert page.locator("svg.chart__svg polyline").count() >= 3, "the trend lines are drawn"
        assert "Für Stufe" in page.locator(".dash-level").inner_text()
        _assert_fits(page, width)
        page.screenshot(path=shots / f"dashboard-{width}.png", full_page=True)

        page.emulate_media(media="print")
        assert not page.locator(".mainnav").is_visible(), "print hides the navigation"
        assert charts.first.is_visible(), "charts print"
        page.screenshot(path=shots / f"dashboard-print-{width}.png", full_page=True)
        assert {"/static/css/dashboard.css"} <= watch.static_loaded
        assert not watch.problems, "\n".join(watch.problems)
    finally:
        context.close()
    _assert_screenshot(shots / f"dashboard-{width}.png", width)
