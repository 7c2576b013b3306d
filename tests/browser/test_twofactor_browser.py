"""Two-factor authentication in a real browser, on a desk and on a phone: switch it on with the QR code's key,
keep the recovery codes, then log in with a recovery code and with the app's next code."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyotp
import pytest
from sqlalchemy.orm import Session

from engpass.accounts.service import sign_up
from tests.support.browser import assert_fits, live_app, log_in, watched_page

PASSWORD = "sicheres-passwort-42"
WIDTHS = (1280, 375)


def _people(session: Session) -> dict[int, str]:
    """One account per width: the server and its data are shared by both runs."""
    emails = {}
    for width in WIDTHS:
        email = f"zwei-faktor-{width}@example.com"
        sign_up(session, name=f"Frieda {width}", email=email, password=PASSWORD, company=f"Sicher {width} GmbH")
        emails[width] = email
    return emails


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[int, str]]]:
    with live_app(tmp_path_factory.mktemp("twofactor-browser"), _people) as served:
        yield served


def _log_out(page) -> None:
    page.click("details.menu--right summary")
    with page.expect_navigation():
        page.click("details.menu--right form[action='/logout'] button")


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_switching_on_two_factor_and_logging_in_with_it(browser, live_server, shots, width):
    url, emails = live_server
    with watched_page(browser, url, width) as (page, watch):
        log_in(page, url, emails[width], PASSWORD)
        page.goto(f"{url}/account/two-factor/setup")
        assert page.locator("h1").inner_text() == "Zwei-Faktor-Authentifizierung einrichten"
        qr = page.locator("[data-testid=totp-qr] svg").bounding_box()
        assert qr is not None and qr["width"] >= 120 and qr["height"] >= 120, "a QR code a phone can scan"
        secret = page.locator("[data-testid=totp-secret]").inner_text().replace(" ", "")
        totp = pyotp.TOTP(secret)
        assert_fits(page, width)
        page.screenshot(path=shots / f"two-factor-setup-{width}.png", full_page=True)

        # The previous step's code: still accepted now, and it leaves the current step for the login below.
        page.fill("input[name=code]", totp.at(int(time.time()) - 30))
        with page.expect_navigation():
            page.click("form button[type=submit].button--primary")
        assert page.locator("h1").inner_text() == "Ihre Wiederherstellungscodes"
        codes = page.locator("[data-testid=recovery-codes] code").all_inner_texts()
        assert len(codes) == 10 and len(set(codes)) == 10
        assert_fits(page, width)
        page.screenshot(path=shots / f"two-factor-codes-{width}.png", full_page=True)
        with page.expect_navigation():
            page.click("text=Ich habe sie gesichert")
        assert "Eingeschaltet seit" in page.locator("main").inner_text()

        _log_out(page)
        log_in(page, url, emails[width], PASSWORD)
        assert page.locator("h1").inner_text() == "Zwei-Faktor-Authentifizierung", "the password alone is not enough"
        assert_fits(page, width)
        page.screenshot(path=shots / f"two-factor-login-{width}.png", full_page=True)
        page.fill("input[name=code]", codes[0].upper())
        with page.expect_navigation():
            page.click("button[type=submit].button--primary")
        assert "9 sind noch übrig" in page.locator(".alert").first.inner_text()
        assert "/o/" in page.url, "signed in, on the company's dashboard"

        _log_out(page)
        log_in(page, url, emails[width], PASSWORD)
        page.fill("input[name=code]", totp.now())
        with page.expect_navigation():
            page.click("button[type=submit].button--primary")
        assert "/o/" in page.url
        assert not watch.problems, "\n".join(watch.problems)
