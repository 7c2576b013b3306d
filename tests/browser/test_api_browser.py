"""Journey 4 in a real browser, on a desk and on a phone: create a token, use it, revoke it; read the API docs."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from engpass.accounts.service import sign_up
from tests.support.browser import assert_fits, live_app, log_in, watched_page

EMAIL = "it@example.com"
PASSWORD = "sicheres-passwort-42"
WIDTHS = (1280, 375)


def _company(session: Session) -> str:
    _owner, org = sign_up(session, name="Ines Technik", email=EMAIL, password=PASSWORD, company="Keller Metall GmbH")
    return org.slug


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with live_app(tmp_path_factory.mktemp("api-browser"), _company) as served:
        yield served


def _api(url: str, token: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_a_token_is_made_shown_once_used_and_revoked(browser, live_server, shots, width):
    url, slug = live_server
    with watched_page(browser, url, width) as (page, watch):
        log_in(page, url, EMAIL, PASSWORD)
        page.click(".menu--right summary")
        with page.expect_navigation():
            page.click("text=API-Tokens")
        assert page.locator("h1").inner_text() == "API-Tokens"
        page.fill("#create input[name=name]", f"Power Automate {width}")
        page.select_option("#create select[name=expires]", "never")
        with page.expect_navigation():
            page.click("#create button[type=submit]")
        token = page.locator("[data-testid=new-token]").input_value()
        assert token.startswith("engp_")
        assert_fits(page, width)
        page.screenshot(path=shots / f"api-token-new-{width}.png", full_page=True)

        status, created = _api(
            f"{url}/api/v1/cycles",
            token,
            "POST",
            {"title": "Angebote", "category": "quoting", "confirm_second_open": True},
        )
        assert status == 201 and created["web_url"].endswith(f"/o/{slug}/cycles/{created['id']}/")

        page.goto(f"{url}/o/{slug}/api-tokens/")
        assert token not in page.content()
        row = page.locator("tr", has_text=f"Power Automate {width}")
        assert row.locator("code").inner_text() == f"engp_…{token[-4:]}"
        row.locator("summary").click()
        with page.expect_navigation():
            row.locator("button[type=submit]").click()
        assert "widerrufen" in page.locator(".alert--success").inner_text()
        assert _api(f"{url}/api/v1/cycles", token)[0] == 401
        page.screenshot(path=shots / f"api-token-revoked-{width}.png", full_page=True)

        page.goto(f"{url}/api/v1/docs")
        assert page.locator("h1").inner_text() == "Engpass API"
        document = page.request.get(f"{url}/api/v1/openapi.json").json()
        operations = [m for item in document["paths"].values() for m in item if m != "parameters"]
        assert page.locator(".apidocs__op").count() == len(operations) > 25
        assert_fits(page, width)
        page.screenshot(path=shots / f"api-docs-{width}.png")
        assert not watch.problems, "\n".join(watch.problems)
