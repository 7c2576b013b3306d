"""A real browser walks the backlog: a member proposes two candidates, the owner sees them ranked by their
cost per year and picks one, and the cycle opens with the candidate's numbers as its draft status quo.

Same approach as ``test_cycle_browser.py`` (Debian's Chromium under Playwright, the app served from its own
SQLite file). Set ``ENGPASS_SCREENSHOT_DIR`` to keep the screenshots (1280 and 375 px wide).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from engpass.accounts.service import create_user, sign_up
from engpass.organizations.models import Role
from engpass.organizations.service import add_member
from tests.support.browser import assert_fits, live_app, log_in, png_size, watched_page

OWNER = "sabine.backlog@example.com"
MEMBER = "max.backlog@example.com"
PASSWORD = "sicheres-passwort-42"


@dataclass
class LiveServer:
    url: str
    slug: str


def _company(session: Session) -> str:
    _owner, org = sign_up(
        session, name="Sabine Müller", email=OWNER, password=PASSWORD, company="Müller Metallbau GmbH"
    )
    add_member(session, org, create_user(session, MEMBER, "Max Mitarbeiter", PASSWORD), Role.member)
    return org.slug


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_app(tmp_path_factory.mktemp("candidates-browser"), _company) as (url, slug):
        yield LiveServer(url=url, slug=slug)


def _propose(page: Any, base: str, title: str, **fields: str) -> None:
    page.goto(f"{base}/new")
    page.fill("#title", title)
    for name, value in fields.items():
        if name in ("category", "effort", "data_available"):
            page.select_option(f"#{name}", value)
        else:
            page.fill(f"#{name}", value)
    with page.expect_navigation():
        page.click("form .formactions .button--primary")
    assert "Danke" in page.locator(".flashes").inner_text()


def _titles(page: Any) -> list[str]:
    return page.locator("[data-testid=candidate-row] .candtable__name").all_inner_texts()


def test_a_member_proposes_the_owner_picks_and_the_cycle_opens_with_the_numbers(browser, live_server, shots):
    base = f"{live_server.url}/o/{live_server.slug}/candidates"

    # The member: two candidates, one with German numbers, one with only a title; no decisions for them.
    with watched_page(browser, live_server.url, 375, 800) as (page, watch):
        log_in(page, live_server.url, MEMBER, PASSWORD)
        page.goto(f"{base}/new")
        assert_fits(page, 375)
        page.screenshot(path=shots / "candidate-propose-375.png", full_page=True)
        _propose(page, base, "Reklamationen bearbeiten dauert", who_feels_it="Service")
        _propose(
            page,
            base,
            "Angebote dauern 9 Tage",
            category="quoting",
            who_feels_it="Vertrieb, 4 Personen",
            hours_per_week="12,5",
            cost_per_week="1.200,50",
            effort="medium",
            data_available="partly",
        )
        assert _titles(page) == ["Angebote dauern 9 Tage", "Reklamationen bearbeiten dauert"]
        assert page.locator(".candtable__actions .button--primary").count() == 0
        assert_fits(page, 375)
        page.screenshot(path=shots / "candidates-member-375.png", full_page=True)
        assert not watch.problems, "\n".join(watch.problems)

    # The owner: ranked by cost per year, the formula beside it; picks the costliest.
    with watched_page(browser, live_server.url, 1280) as (page, watch):
        log_in(page, live_server.url, OWNER, PASSWORD)
        with page.expect_navigation():
            page.click(".mainnav >> text=Kandidaten")
        assert _titles(page) == ["Angebote dauern 9 Tage", "Reklamationen bearbeiten dauert"]
        first = page.locator("[data-testid=candidate-row]").first
        assert first.locator(".candtable__cost strong").inner_text().replace("\xa0", " ") == "104.676 €"
        assert "Arbeitswochen" in first.locator(".candtable__formula").inner_text()
        assert "unbekannt" in page.locator("[data-testid=candidate-row]").nth(1).inner_text()
        assert_fits(page, 1280)
        page.screenshot(path=shots / "candidates-owner.png", full_page=True)

        with page.expect_navigation():
            first.locator(".candtable__actions .button--primary").click()
        page.screenshot(path=shots / "candidate-pick.png", full_page=True)
        with page.expect_navigation():
            page.click("form .formactions .button--primary")
        assert "/cycles/" in page.url
        assert page.locator("h1").first.inner_text() == "Angebote dauern 9 Tage"
        page.screenshot(path=shots / "candidate-cycle.png", full_page=True)

        # The draft status quo holds the candidate's numbers, and its cost per year is the backlog's figure.
        status_quo = page.locator("#baseline").inner_text().replace("\xa0", " ")
        assert "12,5 Std." in status_quo and "1.200,50 €" in status_quo and "104.676 €" in status_quo

        # The other candidate stays in the backlog for the next round; the picked one links to its cycle.
        page.goto(f"{base}/")
        assert _titles(page) == ["Reklamationen bearbeiten dauert"]
        assert page.locator(".candlist >> text=Angebote dauern 9 Tage").count() >= 1
        assert not watch.problems, "\n".join(watch.problems)

    with watched_page(browser, live_server.url, 375, 800) as (page, watch):
        log_in(page, live_server.url, OWNER, PASSWORD)
        page.goto(f"{base}/")
        assert_fits(page, 375)
        page.screenshot(path=shots / "candidates-owner-375.png", full_page=True)
        assert not watch.problems, "\n".join(watch.problems)

    for name, width in (("candidates-owner.png", 1280), ("candidates-owner-375.png", 375)):
        assert png_size(shots / name)[0] == width
