"""A real browser reads a mail on the development outbox page and uses the links mails carry.

Set ``ENGPASS_SCREENSHOT_DIR`` to keep the screenshots for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from engpass.accounts.models import User
from engpass.accounts.service import sign_up
from engpass.notifications import links
from engpass.notifications.preferences import Topic
from tests.support.browser import assert_fits, live_app, watched_page

EMAIL = "sabine.mail@example.com"
SECRET = "browser-test-secret"  # what live_app configures


@dataclass
class Live:
    url: str
    user: User


def _user(session: Session) -> User:
    user, _org = sign_up(session, name="Sabine Müller", email=EMAIL, password="x" * 12, company="Mail GmbH")
    return user


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_app(tmp_path_factory.mktemp("mail-browser"), _user) as (url, user):
        yield Live(url, user)


@pytest.mark.parametrize("width", (1280, 375), ids=("1280px", "375px"))
def test_a_mail_in_the_outbox_page_and_the_links_it_carries(browser, live, shots, width):
    with watched_page(browser, live.url, width) as (page, watch):
        # A mail the app writes to the outbox folder right away: the password reset.
        page.goto(f"{live.url}/password/forgot")
        page.fill("input[name=email]", EMAIL)
        page.click("button[type=submit]")
        page.goto(f"{live.url}/dev/mail/")
        assert page.locator("h1").inner_text() == "Versendete E-Mails"
        page.locator("table a").first.click()
        assert page.locator("h1").inner_text() == "Ihr Engpass-Passwort zurücksetzen"
        frame = page.frame_locator("iframe.mailframe")
        assert frame.locator("a").first.inner_text() == "Neues Passwort wählen"
        assert_fits(page, width)
        page.screenshot(path=shots / f"dev-mail-{width}.png", full_page=True)

        # The settings behind the signed link, without logging in.
        page.goto(f"{live.url}/notifications/settings/{links.preferences_token(SECRET, live.user)}")
        assert page.locator("h1").inner_text() == "E-Mail-Einstellungen"
        page.uncheck("#digest_enabled")
        page.select_option("#digest_weekday", "4")
        page.select_option("#digest_hour", "16")
        page.click("button[type=submit]")
        assert "gespeichert" in page.locator(".alert--success").inner_text()
        assert not page.is_checked("#digest_enabled")
        assert page.locator("#digest_weekday").input_value() == "4"
        assert page.locator("#digest_hour option:checked").inner_text() == "16:00"
        assert_fits(page, width)
        page.screenshot(path=shots / f"mail-settings-{width}.png", full_page=True)

        page.goto(f"{live.url}/notifications/unsubscribe/{links.unsubscribe_token(SECRET, live.user, Topic.reminders)}")
        assert page.locator("h1").inner_text() == "Von Erinnerungen abmelden?"
        page.click("button[type=submit]")
        assert page.locator("h1").inner_text() == "Sie sind abgemeldet."
        page.screenshot(path=shots / f"unsubscribed-{width}.png", full_page=True)
        assert watch.problems == []
