"""A real browser walks one improvement cycle through every stage with the real forms.

Same approach as ``test_browser.py``: Debian's Chromium (``/usr/bin/chromium``) driven by
Playwright, never Playwright's own download; the app served from its own migrated SQLite file
by a werkzeug server in a thread, because the usual fixtures' rolled-back transaction is
invisible to another connection.

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

from engpass import create_app
from engpass.accounts.service import sign_up
from engpass.cli.db import alembic_config
from engpass.db import db
from engpass.outbox.service import EXTENSION_KEY
from engpass.settings import Settings

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

EMAIL = "sabine.cycle@example.com"
PASSWORD = "sicheres-passwort-42"
COMPANY = "Müller Metallbau GmbH"
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


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    _compile_catalogs()
    root = tmp_path_factory.mktemp("cycle-browser")
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
                "secret_key": "cycle-browser-secret",
                "redis_url": "",
                "smtp_url": "",
                "base_url": "http://127.0.0.1",
                "rate_limits_enabled": False,
            }
        )
    )
    app.extensions[EXTENSION_KEY] = lambda *_args: None  # no broker: mails and trend jobs are not the point here
    db.factory.configure(join_transaction_mode="conditional_savepoint")
    with db.transaction() as session:
        _user, org = sign_up(session, name="Sabine Müller", email=EMAIL, password=PASSWORD, company=COMPANY)
        slug = org.slug

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="engpass-cycle-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", slug=slug)
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
    """Console errors (CSP violations among them), failed requests and other origins."""

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


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _assert_fits(page: Any, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"page is {overflow}px wide in a {width}px viewport"


def _submit(page: Any, selector: str = "form .formactions .button--primary") -> None:
    with page.expect_navigation():
        page.click(selector)


def _next_step(page: Any) -> None:
    """The guidance card's primary button: the method's next step."""
    with page.expect_navigation():
        page.click(".guidance .button--primary")


def _flash(page: Any) -> str:
    return page.locator(".flashes .alert--success").inner_text()


def test_one_cycle_through_every_stage_in_a_real_browser(browser, live_server, shots):
    width = 1280
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    page = context.new_page()
    watch = PageWatch(page, live_server.url)
    base = f"{live_server.url}/o/{live_server.slug}/cycles"
    today = date.today()
    try:
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        _submit(page, "button[type=submit].button--primary")

        # The main navigation leads to the empty board, which invites the first bottleneck.
        with page.expect_navigation():
            page.click(".mainnav >> text=Zyklen")
        assert page.url == f"{base}/"
        assert page.locator(".mainnav a[aria-current=page]").inner_text() == "Zyklen"
        page.screenshot(path=shots / "cycles-empty.png", full_page=True)
        with page.expect_navigation():
            page.click("text=Ersten Engpass benennen")

        # 1. Engpass: the category's suggestion appears as soon as the category is chosen (CSS, no script).
        page.fill("#title", "Angebote dauern 9 Tage")
        assert page.locator(".suggest--none").is_visible()
        page.select_option("#category", "quoting")
        assert page.locator(".suggest--quoting").is_visible()
        assert not page.locator(".suggest--leads").is_visible()
        assert "Angebotsdauer in Tagen" in page.locator(".suggest--quoting").inner_text()
        page.fill("#why", "Wir verlieren Aufträge, weil Angebote zu spät kommen.")
        page.screenshot(path=shots / "cycle-new.png", full_page=True)
        _submit(page)
        assert "Engpass benannt." in _flash(page)
        cycle_url = page.url.split("#")[0]
        assert page.locator(".stepper__item--current .stepper__label").inner_text() == "Engpass"

        # Tool first? The solution form says what is missing and saves nothing.
        page.goto(cycle_url + "solution")
        assert "Zuerst der Ist-Zustand" in page.locator(".problems").inner_text()
        page.fill("#solution_what", "Wir kaufen ein KI-Tool")
        page.select_option("#solution_type", "assistant")
        _submit(page)
        assert "Tragen Sie ein, wie viele Stunden pro Woche" in page.locator(".problems").inner_text()
        assert page.input_value("#solution_what") == "Wir kaufen ein KI-Tool"
        page.goto(cycle_url)

        # 2. Ist-Zustand: the KPI is suggested from the category; the process has rows to fill and more on request.
        _next_step(page)
        assert page.input_value("#kpi_name") == "Angebotsdauer in Tagen"
        assert page.is_checked("input[name=kpi_direction][value=lower]")
        page.fill("#hours_per_week", "14")
        page.fill("#direct_cost_per_week", "0")
        page.fill("#kpi_unit", "Tage")
        page.fill("#kpi_baseline", "9")
        page.fill("#kpi_target", "4")
        rows = [("Anfrage prüfen", "Vertrieb", "30"), ("Preise kalkulieren", "Technik", "120")]
        for index, (name, role, minutes) in enumerate(rows):
            page.fill(f"#steps-{index}-name", name)
            page.fill(f"#steps-{index}-role", role)
            page.fill(f"#steps-{index}-minutes", minutes)
        with page.expect_navigation():
            page.click("button[name=rows][value=add]")
        assert page.locator(".steprow").count() == 6
        assert page.input_value("#steps-1-name") == "Preise kalkulieren"
        page.fill("#steps-2-name", "Angebot schreiben")
        page.fill("#steps-2-role", "Vertrieb")
        page.fill("#steps-2-minutes", "45")
        page.screenshot(path=shots / "cycle-baseline-form.png", full_page=True)
        _submit(page)
        assert "Ist-Zustand gespeichert." in _flash(page)
        assert page.locator(".processtable tbody tr").count() == 3
        assert "195" in page.locator(".processtable tfoot").inner_text()

        # 3. Lösung.
        _next_step(page)
        page.fill("#solution_what", "E-Mail-Vorlage plus Kalkulationsblatt, an das CRM angebunden")
        page.select_option("#solution_type", "email_automation")
        page.fill("#expected_effect", "Angebote in 4 statt 9 Tagen")
        page.fill("#effort_days", "6")
        _submit(page)
        assert "Lösung gespeichert." in _flash(page)

        # 4. Umsetzung: the target date is four weeks after the start unless set.
        _next_step(page)
        start = today - timedelta(days=21)
        page.fill("#prototype_start", start.isoformat())
        page.fill("#prototype_target", "")
        _submit(page)
        assert "Prototyp geplant." in _flash(page)
        target = start + timedelta(weeks=4)
        assert target.strftime("%d.%m.%Y") in page.locator("#prototype").inner_text()

        # 5. Ergebnis: two measurements, with a German decimal comma.
        for measured_on, kpi, hours in ((today - timedelta(days=10), "6,5", "10"), (today, "4", "6")):
            with page.expect_navigation():
                page.click("#result .panel__head .button--primary")
            page.fill("#measured_on", measured_on.isoformat())
            page.fill("#kpi_value", kpi)
            page.fill("#hours_per_week", hours)
            _submit(page)
            assert "Messung gespeichert." in _flash(page)
        assert page.locator(".stepper__item--current .stepper__label").inner_text() == "Ergebnis"

        chart = page.locator("svg.chart__svg--wide")
        assert chart.is_visible() and not page.locator("svg.chart__svg--compact").is_visible()
        assert page.locator("svg.chart__svg--wide title").first.text_content().startswith("Verlauf der Kennzahl")
        points = page.locator("svg.chart__svg--wide circle.chart__point")
        assert points.count() == 2
        svg_box = chart.bounding_box()
        for i in range(2):
            box = points.nth(i).bounding_box()
            assert box is not None and box["width"] > 4
            assert svg_box["x"] <= box["x"] and box["x"] + box["width"] <= svg_box["x"] + svg_box["width"]
        # The measured line runs downwards: 6,5 days then 4 days (lower is better).
        assert points.nth(0).bounding_box()["y"] < points.nth(1).bounding_box()["y"]
        business_case = page.locator("#business-case").inner_text().replace("\xa0", " ")
        assert "27.040 €" in business_case and "6 Wochen" in business_case and "−55,6 %" in business_case

        # 6. Entscheidung.
        _next_step(page)
        page.check("input[name=decision][value=scale]")
        page.fill("#decision_reason", "Die Zahlen überzeugen die Partner: ausrollen.")
        _submit(page)
        assert "Entscheidung gespeichert." in _flash(page)
        assert page.locator(".stepper__item--current .stepper__label").inner_text() == "Entschieden"
        assert page.locator(".stepper__item--done").count() == 5
        _assert_fits(page, width)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=shots / "cycle-decided.png", full_page=True)

        # Nächster Engpass: linked to the decided cycle, both ways.
        _next_step(page)
        assert "Angebote dauern 9 Tage" in page.locator(".chainnote").inner_text()
        page.fill("#title", "Zu wenige qualifizierte Leads")
        page.select_option("#category", "leads")
        _submit(page)
        assert page.locator(".chain__item").count() == 2
        with page.expect_navigation():
            page.click(".chain__item a.chain__name")
        assert page.url.split("#")[0] == cycle_url
        assert "Zu wenige qualifizierte Leads" in page.locator(".chain").inner_text()

        with page.expect_navigation():
            page.click(".mainnav >> text=Zyklen")
        assert page.locator(".board__col--decided .kcard").count() == 1
        assert page.locator(".board__col--bottleneck .kcard").count() == 1
        _assert_fits(page, width)
        page.screenshot(path=shots / "cycles-board.png", full_page=True)
        page.goto(f"{base}/table")
        page.screenshot(path=shots / "cycles-table.png", full_page=True)

        assert {"/static/css/app.css", "/static/css/cycles.css"} <= watch.static_loaded
        assert not watch.problems, "\n".join(watch.problems)
    finally:
        context.close()

    # The decided cycle on a phone: nothing scrolls sideways, the chart still fits.
    phone = browser.new_context(viewport={"width": 375, "height": 800}, locale="de-DE")
    page = phone.new_page()
    watch = PageWatch(page, live_server.url)
    try:
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        _submit(page, "button[type=submit].button--primary")
        page.goto(cycle_url)
        compact = page.locator("svg.chart__svg--compact")
        assert compact.is_visible() and not page.locator("svg.chart__svg--wide").is_visible()
        assert compact.locator("circle.chart__point").count() == 2
        assert compact.locator("circle.chart__point").nth(1).is_visible()
        _assert_fits(page, 375)
        page.screenshot(path=shots / "cycle-decided-375.png", full_page=True)
        page.goto(f"{base}/")
        _assert_fits(page, 375)
        page.screenshot(path=shots / "cycles-board-375.png", full_page=True)
        assert not watch.problems, "\n".join(watch.problems)
    finally:
        phone.close()

    for name, expected_width in (("cycle-decided.png", 1280), ("cycle-decided-375.png", 375)):
        png_width, png_height = _png_size(shots / name)
        assert png_width == expected_width and png_height > 900
        assert (shots / name).stat().st_size > 30_000, f"{name} looks empty"
