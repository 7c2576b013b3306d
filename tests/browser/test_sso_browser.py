"""Single sign-on in a real browser, on a desk and on a phone: from the login page by e-mail to the provider's own
login form (the test OpenID provider) and back into the organization; the owners' settings page fits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.service import sign_up
from engpass.db import utcnow
from engpass.organizations.models import Role
from engpass.sso import config as sso_config
from engpass.sso.models import SsoDomain
from tests.fixtures.oidc import OidcProvider
from tests.support.browser import assert_fits, live_app, log_in, watched_page
from tests.support.oidc_provider import ACCOUNTS

PASSWORD = "sicheres-passwort-42"
WIDTHS = (1280, 375)
OWNER = "olga@firma.example"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, oidc_provider: OidcProvider) -> Iterator[tuple[str, str]]:
    def setup(session: Session) -> str:
        owner, org = sign_up(session, name="Olga Owner", email=OWNER, password=PASSWORD, company="Firma GmbH")
        with tenancy.tenant_context(session, org.id):
            settings = sso_config.ProviderSettings(
                issuer=oidc_provider.issuer,
                client_id="engpass",
                client_secret="engpass-secret",
                default_role=Role.member,
            )
            sso_config.save_provider(session, org, settings, "browser-test-secret", owner.id)
            session.add(SsoDomain(organization_id=org.id, domain="firma.example", verified_at=utcnow()))
            org.require_sso = True
            session.flush()
        return org.slug

    with live_app(tmp_path_factory.mktemp("sso-browser"), setup) as served:
        yield served


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_signing_in_through_the_providers_own_login_form(browser, live_server, shots, width):
    url, slug = live_server
    # Anna joins just in time on the first run; the second run signs the same account in again.
    email = "anna@firma.example"
    with watched_page(browser, url, width) as (page, watch):
        page.goto(f"{url}/login")
        with page.expect_navigation():
            page.click("text=Mit Single Sign-on anmelden")
        assert page.locator("h1").inner_text() == "Single Sign-on"
        assert_fits(page, width)
        page.screenshot(path=shots / f"sso-email-{width}.png", full_page=True)
        page.fill("input[name=email]", email)
        with page.expect_navigation():
            page.click("button[type=submit].button--primary")

        assert page.locator("h1").inner_text() == "Test provider sign-in", "the provider's own page"
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", ACCOUNTS[email]["password"])
        page.screenshot(path=shots / f"sso-provider-{width}.png", full_page=True)
        with page.expect_navigation(url=f"{url}/o/{slug}/"):
            page.click("text=Sign in at the provider")
        assert page.url == f"{url}/o/{slug}/", "signed in, on the company's dashboard (single sign-on is required)"
        assert_fits(page, width)
        page.screenshot(path=shots / f"sso-dashboard-{width}.png", full_page=True)


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_the_owners_settings_page_fits(browser, live_server, shots, width):
    url, slug = live_server
    with watched_page(browser, url, width) as (page, watch):
        log_in(page, url, OWNER, PASSWORD)
        page.goto(f"{url}/o/{slug}/settings/sso/")
        assert page.locator("h1").inner_text() == "Single Sign-on"
        assert "Ein Secret ist hinterlegt" in page.locator("main").inner_text()
        with page.expect_navigation():
            page.click("text=Verbindung testen")
        assert "Der Anbieter antwortet." in page.locator("[data-testid=sso-test-report]").inner_text()
        assert_fits(page, width)
        page.screenshot(path=shots / f"sso-settings-{width}.png", full_page=True)
