"""A consultant in a real browser: logs in, lands on the portfolio, enters a client and sees the banner.

The demo data (``engpass demo``): Petra Weber's consultancy has access to two demo companies.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.demo.data import DEMO_PASSWORD, load_demo
from engpass.organizations.models import Organization, OrgKind
from tests.support.browser import assert_fits, live_app, log_in, watched_page

WIDTHS = (1280, 375)


def _demo(session: Session) -> str:
    load_demo(session)
    return session.scalars(select(Organization.slug).where(Organization.kind == OrgKind.consultancy)).one()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with live_app(tmp_path_factory.mktemp("consulting-browser"), _demo) as (url, slug):
        yield url, slug


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_a_consultant_opens_the_portfolio_enters_a_client_and_sees_the_banner(browser, live, shots, width):
    url, firm_slug = live
    with watched_page(browser, url, width) as (page, watch):
        log_in(page, url, "consultant@demo.example", DEMO_PASSWORD)
        # A consultancy's people start the week on the portfolio.
        assert page.url == f"{url}/o/{firm_slug}/portfolio"
        assert page.locator("h1").inner_text() == "Portfolio"
        clients = page.locator("a.portfolio__client")
        assert clients.all_inner_texts() == ["Müller Metallbau GmbH", "Schneider Logistik KG"]
        assert "Sie arbeiten als Berater" not in page.content()
        assert_fits(page, width)
        page.screenshot(path=shots / f"portfolio-{width}.png", full_page=True)

        # Sorted by savings, highest first, with the filter form (no JavaScript).
        page.select_option("select#sort", "saved")
        page.select_option("select#dir", "desc")
        with page.expect_navigation():
            page.click(".portfolio-filters button[type=submit]")
        assert "sort=saved" in page.url
        assert page.locator("a.portfolio__client").count() == 2

        with page.expect_navigation():
            page.click("a.portfolio__client:has-text('Müller Metallbau GmbH')")
        assert page.url.endswith("/o/mueller-metallbau-gmbh/")
        banner = page.locator("[data-testid=consulting-banner]")
        assert banner.is_visible()
        assert banner.inner_text().startswith(
            "Sie arbeiten als Berater bei Müller Metallbau GmbH, für Weber & Partner Unternehmensberatung."
        )
        assert page.locator("h1").inner_text() == "Müller Metallbau GmbH"
        # Neither settings nor the audit log in a client's navigation for a consultant.
        assert page.locator(".mainnav a", has_text="Einstellungen").count() == 0
        assert_fits(page, width)
        page.screenshot(path=shots / f"client-as-consultant-{width}.png", full_page=True)

        with page.expect_navigation():
            banner.locator("a").click()
        assert page.url == f"{url}/o/{firm_slug}/portfolio"
        assert "/static/css/consulting.css" in watch.static_loaded
        assert not watch.problems, "\n".join(watch.problems)
