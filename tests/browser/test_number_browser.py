"""A person types German numbers into a real browser: the hourly rate and the status quo, on a desk and a phone.

Typing ``50,00`` into the hourly rate once saved 5000.00 €/h (a ``type=number`` field, read by WTForms'
DecimalField). Here Chromium in German types key by key into the fields as they render, and the saved
value and the business case on the cycle page are checked. Debian's Chromium driven by Playwright, the app
served from its own SQLite file (see ``tests/support/browser.py``); ``ENGPASS_SCREENSHOT_DIR`` keeps the
screenshots.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.service import sign_up
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Cycle, KpiDirection, SolutionType
from engpass.db import db
from engpass.organizations.models import Organization
from tests.support.browser import assert_fits, live_app, log_in, png_size, watched_page

EMAIL = "sabine.zahlen@example.com"
PASSWORD = "sicheres-passwort-42"


def _company(session: Session) -> tuple[str, int]:
    """Sabine's quoting cycle with a measurement: 14 h a week before, 6 h now."""
    owner, org = sign_up(session, name="Sabine Müller", email=EMAIL, password=PASSWORD, company="Zahlen GmbH")
    with tenancy.tenant_context(session, org.id):
        cycle = cycles.create_cycle(
            session, title="Angebote", category=Category.quoting, why="x", owner_id=owner.id, actor_id=owner.id
        )
        baseline = {
            "hours_per_week": Decimal(14),
            "kpi_name": "Dauer",
            "kpi_unit": "Tage",
            "kpi_direction": KpiDirection.lower,
            "kpi_baseline": Decimal(9),
        }
        cycles.save_baseline(session, cycle, baseline, None, owner.id)
        cycles.save_solution(
            session, cycle, {"solution_what": "Vorlage", "solution_type": SolutionType.other}, owner.id
        )
        cycles.start_prototype(session, cycle, {"prototype_start": date.today() - timedelta(days=14)}, owner.id)
        measured = {
            "measured_on": date.today() - timedelta(days=1),
            "kpi_value": Decimal(4),
            "hours_per_week": Decimal(6),
        }
        cycles.add_measurement(session, cycle, measured, owner.id)
    return org.slug, cycle.id


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, tuple[str, int]]]:
    with live_app(tmp_path_factory.mktemp("number-browser"), _company) as served:
        yield served


def _type(page: Any, selector: str, text: str) -> None:
    """Clear the field and type key by key, as a person does."""
    field = page.locator(selector)
    field.fill("")
    field.press_sequentially(text)


def _save(page: Any, selector: str = "form .button--primary") -> None:
    with page.expect_navigation():
        page.click(selector)


def _saved() -> tuple[Decimal, Decimal | None, Decimal | None]:
    with db.transaction() as session:
        org = session.scalars(select(Organization)).one()
        with tenancy.tenant_context(session, org.id):
            cycle = session.scalars(select(Cycle)).one()
            return org.default_hourly_rate, cycle.hours_per_week, cycle.direct_cost_per_week


@pytest.mark.parametrize("width", [1280, 375])
def test_german_numbers_typed_into_the_rate_and_the_status_quo(browser, live_server, shots, width):
    base, (slug, cycle_id) = live_server
    with watched_page(browser, base, width, 800) as (page, watch):
        log_in(page, base, EMAIL, PASSWORD)

        page.goto(f"{base}/o/{slug}/settings")
        rate = page.locator("#default_hourly_rate")
        assert rate.get_attribute("type") == "text" and rate.get_attribute("inputmode") == "decimal"
        _type(page, "#default_hourly_rate", "1.234")
        _save(page)
        assert "„1.234“ ist nicht eindeutig: meinen Sie 1234 oder 1,234?" in page.locator(".field__error").inner_text()
        assert page.input_value("#default_hourly_rate") == "1.234"
        _type(page, "#default_hourly_rate", "50,00")
        _save(page)
        assert "Einstellungen gespeichert." in page.locator(".flashes").inner_text()
        assert page.input_value("#default_hourly_rate") == "50"
        assert_fits(page, width)
        page.screenshot(path=shots / f"numbers-settings-{width}.png", full_page=True)

        page.goto(f"{base}/o/{slug}/cycles/{cycle_id}/baseline")
        assert page.locator("#direct_cost_per_week").get_attribute("inputmode") == "decimal"
        assert "Lizenzen, Material, externe Dienstleister" in page.locator("main form").inner_text()
        _type(page, "#hours_per_week", "14,5")
        _type(page, "#direct_cost_per_week", "1.234,5")
        _save(page, "form .formactions .button--primary")
        assert "Ist-Zustand gespeichert." in page.locator(".flashes").inner_text()
        assert _saved() == (Decimal("50.00"), Decimal("14.50"), Decimal("1234.50"))

        # (14,5 − 6) h × 50 € × 52 weeks: the business case is valued at the rate as typed.
        page.goto(f"{base}/o/{slug}/cycles/{cycle_id}/")
        text = page.locator("main").inner_text().replace("\xa0", " ")
        assert "22.100 €" in text and "8,5 Std./Woche × 50 € × 52 Arbeitswochen = 22.100 €" in text
        assert "1.234,50 €" in text
        assert_fits(page, width)
        page.screenshot(path=shots / f"numbers-business-case-{width}.png", full_page=True)
        assert not watch.problems, "\n".join(watch.problems)
    assert png_size(shots / f"numbers-settings-{width}.png")[0] == width


def test_an_implausible_rate_is_confirmed_in_the_browser(browser, live_server, shots):
    base, (slug, _cycle_id) = live_server
    with watched_page(browser, base, 375, 800) as (page, watch):
        log_in(page, base, EMAIL, PASSWORD)
        page.goto(f"{base}/o/{slug}/settings")
        _type(page, "#default_hourly_rate", "5.000,00")
        _save(page)
        warning = page.locator(".field__warning").inner_text().replace("\xa0", " ")
        assert "5.000 € pro Stunde liegt weit über dem" in warning
        assert page.input_value("#default_hourly_rate") == "5.000,00"
        assert_fits(page, 375)
        page.screenshot(path=shots / "numbers-confirm-375.png", full_page=True)
        page.check("#confirm_implausible")
        _save(page)
        assert "Einstellungen gespeichert." in page.locator(".flashes").inner_text()
        assert _saved()[0] == Decimal("5000.00")
        _type(page, "#default_hourly_rate", "50")
        _save(page)
        assert _saved()[0] == Decimal("50.00")
        assert not watch.problems, "\n".join(watch.problems)
