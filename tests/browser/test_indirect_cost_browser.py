"""Indirect cost items in a real browser, on a desk and a phone: the kind chosen by a link, the form's fields
following it, German numbers typed key by key, the item on the cycle page with its formula and the share of
the status quo resting on guesses. ``ENGPASS_SCREENSHOT_DIR`` keeps the screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.service import sign_up
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Cycle, KpiDirection
from engpass.db import db
from engpass.organizations.models import Organization
from tests.support.browser import assert_fits, live_app, log_in, png_size, watched_page

EMAIL = "sabine.kosten@example.com"
PASSWORD = "sicheres-passwort-42"
WIDTHS = (1280, 375)


def _company(session: Session) -> tuple[str, dict[int, int]]:
    """Sabine's quoting cycle with its status quo, 14 h a week at the default 65 €, once for each width."""
    owner, org = sign_up(session, name="Sabine Müller", email=EMAIL, password=PASSWORD, company="Kosten GmbH")
    ids = {}
    with tenancy.tenant_context(session, org.id):
        for width in WIDTHS:
            cycle = cycles.create_cycle(
                session,
                title=f"Angebote {width}",
                category=Category.quoting,
                why="x",
                owner_id=owner.id,
                actor_id=owner.id,
                confirm_second_open=True,
            )
            baseline = {
                "hours_per_week": Decimal(14),
                "kpi_name": "Dauer",
                "kpi_unit": "Tage",
                "kpi_direction": KpiDirection.lower,
                "kpi_baseline": Decimal(9),
            }
            cycles.save_baseline(session, cycle, baseline, None, owner.id)
            ids[width] = cycle.id
    return org.slug, ids


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, tuple[str, dict[int, int]]]]:
    with live_app(tmp_path_factory.mktemp("indirect-browser"), _company) as served:
        yield served


def _type(page: Any, selector: str, text: str) -> None:
    field = page.locator(selector)
    field.fill("")
    field.press_sequentially(text)


def _save(page: Any) -> None:
    with page.expect_navigation():
        page.click("form .formactions .button--primary")


def _items(cycle_id: int) -> list[tuple[str, Decimal | None, Decimal | None, int | None]]:
    with db.transaction() as session:
        org = session.scalars(select(Organization)).one()
        with tenancy.tenant_context(session, org.id):
            cycle = session.get(Cycle, cycle_id)
            return [(i.kind.value, i.quantity, i.unit_value, i.people_affected) for i in cycle.indirect_cost_items]


@pytest.mark.parametrize("width", WIDTHS)
def test_an_owner_adds_a_guessed_penalty_and_measured_waiting_time(browser, live_server, shots, width):
    base, (slug, cycle_ids) = live_server
    cycle_id = cycle_ids[width]
    with watched_page(browser, base, width, 800) as (page, watch):
        log_in(page, base, EMAIL, PASSWORD)
        page.goto(f"{base}/o/{slug}/cycles/{cycle_id}/#indirect-costs")
        with page.expect_navigation():
            page.click(".costitems__add >> text=Vertragsstrafen")
        assert page.locator("label[for=unit_value]").inner_text() == "Betrag je Vertragsstrafe"
        assert page.locator("#people_affected").count() == 0
        _type(page, "#label", "Vertragsstrafe bei Terminverzug")
        _type(page, "#quantity", "1")
        _type(page, "#unit_value", "5.000")  # ambiguous: refused, naming both readings
        page.check("input[name=source][value=guess]")
        _save(page)
        assert "nicht eindeutig" in page.locator(".field__error").inner_text()
        _type(page, "#unit_value", "5.000,00")
        _save(page)
        assert "Indirekte Kosten hinzugefügt." in page.locator(".flashes").inner_text()

        page.goto(f"{base}/o/{slug}/cycles/{cycle_id}/indirect-costs/new?kind=waiting")
        assert page.locator("label[for=quantity]").inner_text() == "Wartestunden je Person"
        assert page.locator("#unit_value").count() == 0
        _type(page, "#label", "Vertrieb wartet auf Kalkulation")
        _type(page, "#quantity", "1,5")
        _type(page, "#people_affected", "3")
        page.check("input[name=period][value=week]")
        page.check("input[name=source][value=measured]")
        assert_fits(page, width)
        page.screenshot(path=shots / f"indirect-cost-form-{width}.png", full_page=True)
        _save(page)

        text = page.locator("#baseline").inner_text().replace("\xa0", " ")
        # 1 × 5,000 a year; 1.5 h × 3 × 65 € = 292.50 € a week × 52 = 15,210 €; with 14 × 65 × 52 = 47,320 €.
        assert "Vertragsstrafe bei Terminverzug (Vermutung): 1 Vertragsstrafe × 5.000 € pro Jahr = 5.000 €" in text
        assert "1,5 Std. Warten × 3 Personen × 65 € pro Woche × 52 Arbeitswochen = 15.210 €" in text
        assert "67.530 €" in text and "7,4 %" in text  # 5,000 ÷ 67,530
        assert_fits(page, width)
        page.locator("#baseline").screenshot(path=shots / f"indirect-costs-{width}.png")
        assert not watch.problems, "\n".join(watch.problems)
    assert _items(cycle_id) == [("penalties", Decimal(1), Decimal(5000), None), ("waiting", Decimal("1.5"), None, 3)]
    assert png_size(shots / f"indirect-cost-form-{width}.png")[0] == width
