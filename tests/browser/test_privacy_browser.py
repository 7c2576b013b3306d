"""The data-protection pages in a real browser, on a desk and on a phone: deleting an organization by typing
its name, and the account's export download."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from engpass.accounts.service import sign_up
from engpass.organizations.service import create_organization
from tests.support.browser import assert_fits, live_app, log_in, watched_page

EMAIL = "sabine@example.com"
PASSWORD = "sicheres-passwort-42"
WIDTHS = (1280, 375)
# One organization to delete per width: the server (and its data) is shared by both runs.
DOOMED = {1280: "Müller Metallbau GmbH", 375: "Zweite Werkstatt GmbH"}


def _setup(session: Session) -> dict[int, str]:
    owner, first = sign_up(session, name="Sabine Müller", email=EMAIL, password=PASSWORD, company=DOOMED[1280])
    second = create_organization(session, DOOMED[375], owner)
    create_organization(session, "Bleibt AG", owner)
    return {1280: first.slug, 375: second.slug}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[int, str]]]:
    with live_app(tmp_path_factory.mktemp("privacy-browser"), _setup) as served:
        yield served


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_an_owner_deletes_an_organization_by_typing_its_name(browser, live_server, shots, width):
    url, slugs = live_server
    name, slug = DOOMED[width], slugs[width]
    with watched_page(browser, url, width) as (page, watch):
        log_in(page, url, EMAIL, PASSWORD)
        page.goto(f"{url}/o/{slug}/settings")
        with page.expect_navigation():
            page.click("#delete a")
        assert page.locator("h1").inner_text() == f"{name} löschen?"
        assert_fits(page, width)
        page.screenshot(path=shots / f"delete-organization-{width}.png", full_page=True)

        page.fill("input[name=confirmation]", name.upper())
        page.fill("input[name=current_password]", PASSWORD)
        with page.expect_navigation():
            page.click("button.button--danger")
        assert "Bitte genau so eingeben" in page.locator("#confirmation-error").inner_text()
        assert page.input_value("input[name=confirmation]") == name.upper()
        assert_fits(page, width)

        page.fill("input[name=confirmation]", name)
        page.fill("input[name=current_password]", PASSWORD)
        with page.expect_navigation():
            page.click("button.button--danger")
        assert f"{name} wurde mit allen Daten gelöscht." in page.locator(".alert--success").inner_text()
        assert page.goto(f"{url}/o/{slug}/").status == 404
        assert not [p for p in watch.problems if "404" not in p], "\n".join(watch.problems)


def test_the_account_page_downloads_the_export_and_explains_the_deletion(browser, live_server, shots):
    url, _ = live_server
    with watched_page(browser, url, 375, accept_downloads=True) as (page, watch):
        log_in(page, url, EMAIL, PASSWORD)
        page.goto(f"{url}/account/settings")
        with page.expect_download() as download:
            page.click("#privacy button[type=submit]")
        data = json.loads(download.value.path().read_text(encoding="utf-8"))
        assert data["profile"]["email"] == EMAIL
        assert download.value.suggested_filename.startswith("engpass-export-")
        # Opened by its address: the download just now was a form's navigation turned download, which a
        # navigation awaited next could be confused with.
        assert page.get_attribute("#privacy a.button--danger", "href") == "/account/delete"
        page.goto(f"{url}/account/delete")
        # Sabine is still the only owner of "Bleibt AG": the page says so and the button waits.
        assert "Bleibt AG" in page.locator("#sole-owner").inner_text()
        assert page.locator("button.button--danger").is_disabled()
        assert_fits(page, 375)
        page.screenshot(path=shots / "delete-account-375.png", full_page=True)
        assert not watch.problems, "\n".join(watch.problems)
