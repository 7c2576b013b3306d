"""A real browser logs in and looks at the pages, on a desk and on a phone.

Drives Debian's Chromium through Playwright and a server of its own (see tests/support/browser.py).

Set ``ENGPASS_SCREENSHOT_DIR`` to keep the screenshots for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.service import sign_up
from engpass.demo.cycles import SHOP, build_chain
from engpass.trends import service as trends
from tests.support.browser import assert_fits, live_app, log_in, png_size, watched_page

EMAIL = "sabine@example.com"
VETERAN = "mehmet@example.com"
PASSWORD = "sicheres-passwort-42"
COMPANY = "Müller Metallbau GmbH"
WIDTHS = (1280, 375)


@dataclass
class LiveServer:
    url: str
    slug: str
    veteran_slug: str


def _two_companies(session: Session) -> tuple[str, str]:
    _user, org = sign_up(session, name="Sabine Müller", email=EMAIL, password=PASSWORD, company=COMPANY)
    # A second company with a year of history, for the dashboard's charts.
    veteran, shop = sign_up(session, name="Mehmet Krause", email=VETERAN, password=PASSWORD, company="Krause")
    with tenancy.tenant_context(session, shop.id):
        build_chain(session, SHOP, date.today() - timedelta(days=3), veteran.id, seed=5)
        trends.recompute(session)
    return org.slug, shop.slug


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_app(tmp_path_factory.mktemp("browser"), _two_companies) as (url, (slug, veteran_slug)):
        yield LiveServer(url=url, slug=slug, veteran_slug=veteran_slug)


def _assert_screenshot(path: Path, width: int) -> None:
    png_width, png_height = png_size(path)
    assert png_width == width
    assert png_height >= 500
    # A blank or unstyled page compresses to almost nothing; a real one does not.
    assert path.stat().st_size > 15_000, f"{path.name} looks empty ({path.stat().st_size} bytes)"


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_login_and_organization_home_in_a_real_browser(browser, live_server, shots, width):
    with watched_page(browser, live_server.url, width) as (page, watch):
        page.goto(f"{live_server.url}/login")
        assert page.locator("h1").inner_text() == "Anmelden"
        assert page.locator(".auth__aside .steps li").count() == 6
        styled = page.evaluate("getComputedStyle(document.querySelector('.button--primary')).backgroundColor")
        assert styled == "rgb(15, 123, 108)", "app.css did not apply"
        assert_fits(page, width)
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
        assert_fits(page, width)
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

    for name in ("login", "home"):
        _assert_screenshot(shots / f"{name}-{width}.png", width)


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_dashboard_charts_render_and_print(browser, live_server, shots, width):
    with watched_page(browser, live_server.url, width) as (page, watch):
        log_in(page, live_server.url, VETERAN, PASSWORD)
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
        assert_fits(page, width)
        page.screenshot(path=shots / f"dashboard-{width}.png", full_page=True)

        page.emulate_media(media="print")
        assert not page.locator(".mainnav").is_visible(), "print hides the navigation"
        assert charts.first.is_visible(), "charts print"
        page.screenshot(path=shots / f"dashboard-print-{width}.png", full_page=True)
        assert {"/static/css/dashboard.css"} <= watch.static_loaded
        assert not watch.problems, "\n".join(watch.problems)
    _assert_screenshot(shots / f"dashboard-{width}.png", width)


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_todo_list_in_a_real_browser(browser, live_server, shots, width):
    with watched_page(browser, live_server.url, width) as (page, watch):
        log_in(page, live_server.url, VETERAN, PASSWORD)
        if width > 720:
            # An owner's five navigation items and the language switch share one row on a desk.
            nav, right = page.locator(".mainnav").bounding_box(), page.locator(".topbar__right").bounding_box()
            assert nav is not None and right is not None and abs(nav["y"] - right["y"]) < 12, (nav, right)
        with page.expect_navigation():
            page.click(".mainnav >> text=Zu tun")
        assert page.url == f"{live_server.url}/o/{live_server.veteran_slug}/todo"
        assert page.locator("h1").inner_text() == "Was ist zu tun?"
        items = page.locator(".todo__item")
        assert items.count() >= 1, "the demo chain leaves something open"
        for i in range(items.count()):
            button = items.nth(i).locator(".todo__action").bounding_box()
            assert button is not None and button["x"] >= 0 and button["x"] + button["width"] <= width
        assert_fits(page, width)
        page.screenshot(path=shots / f"todo-{width}.png", full_page=True)
        assert not watch.problems, "\n".join(watch.problems)
    _assert_screenshot(shots / f"todo-{width}.png", width)
