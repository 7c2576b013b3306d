"""A real browser walks one improvement cycle through every stage with the real forms.

Same approach as ``test_browser.py``: Debian's Chromium (``/usr/bin/chromium``) driven by
Playwright, never Playwright's own download; the app served from its own migrated SQLite file
by a werkzeug server in a thread, because the usual fixtures' rolled-back transaction is
invisible to another connection.

Set ``ENGPASS_SCREENSHOT_DIR`` to keep the screenshots for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from engpass.accounts.service import sign_up
from tests.support.browser import assert_fits, live_app, log_in, png_size, watched_page

EMAIL = "sabine.cycle@example.com"
PASSWORD = "sicheres-passwort-42"
COMPANY = "Müller Metallbau GmbH"


@dataclass
class LiveServer:
    url: str
    slug: str


def _company(session: Session) -> str:
    _user, org = sign_up(session, name="Sabine Müller", email=EMAIL, password=PASSWORD, company=COMPANY)
    return org.slug


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_app(tmp_path_factory.mktemp("cycle-browser"), _company) as (url, slug):
        yield LiveServer(url=url, slug=slug)


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
    base = f"{live_server.url}/o/{live_server.slug}/cycles"
    today = date.today()
    with watched_page(browser, live_server.url, width) as (page, watch):
        log_in(page, live_server.url, EMAIL, PASSWORD)

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
        page.fill("#lessons_worked", "Die Vorlage mit Kalkulationsblatt.")
        page.fill("#lessons_failed", "Der Export aus dem ERP.")
        page.fill("#lessons_differently", "Früher messen.")
        _submit(page)
        assert "Entscheidung gespeichert." in _flash(page)
        assert page.locator(".stepper__item--current .stepper__label").inner_text() == "Entschieden"
        assert page.locator(".stepper__item--done").count() == 5
        assert_fits(page, width)
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
        assert_fits(page, width)
        page.screenshot(path=shots / "cycles-board.png", full_page=True)
        page.goto(f"{base}/table")
        page.screenshot(path=shots / "cycles-table.png", full_page=True)

        assert {"/static/css/app.css", "/static/css/cycles.css"} <= watch.static_loaded
        assert not watch.problems, "\n".join(watch.problems)

    # The decided cycle on a phone: nothing scrolls sideways, the chart still fits.
    with watched_page(browser, live_server.url, 375, 800) as (page, watch):
        log_in(page, live_server.url, EMAIL, PASSWORD)
        page.goto(cycle_url)
        compact = page.locator("svg.chart__svg--compact")
        assert compact.is_visible() and not page.locator("svg.chart__svg--wide").is_visible()
        assert compact.locator("circle.chart__point").count() == 2
        assert compact.locator("circle.chart__point").nth(1).is_visible()
        assert_fits(page, 375)
        page.screenshot(path=shots / "cycle-decided-375.png", full_page=True)
        page.goto(f"{base}/")
        assert_fits(page, 375)
        page.screenshot(path=shots / "cycles-board-375.png", full_page=True)
        assert not watch.problems, "\n".join(watch.problems)

    for name, expected_width in (("cycle-decided.png", 1280), ("cycle-decided-375.png", 375)):
        png_width, png_height = png_size(shots / name)
        assert png_width == expected_width and png_height > 900
        assert (shots / name).stat().st_size > 30_000, f"{name} looks empty"
