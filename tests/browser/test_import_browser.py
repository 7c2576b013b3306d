"""Importing measurements in a real browser, on a desk and a phone: upload a German Excel CSV, see the
preview with a row error, import the valid rows. Chromium driven by Playwright (``tests/support/browser.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.service import sign_up
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, KpiDirection, Measurement, SolutionType
from engpass.db import db
from engpass.organizations.models import Organization
from tests.support.browser import assert_fits, live_app, log_in, watched_page

EMAIL = "sabine.import@example.com"
PASSWORD = "sicheres-passwort-42"


def _company(session: Session) -> tuple[str, int]:
    owner, org = sign_up(session, name="Sabine Müller", email=EMAIL, password=PASSWORD, company="Import GmbH")
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
        cycles.save_solution(session, cycle, {"solution_what": "V", "solution_type": SolutionType.other}, owner.id)
        cycles.start_prototype(session, cycle, {"prototype_start": date.today() - timedelta(days=30)}, owner.id)
    return org.slug, cycle.id


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, tuple[str, int]]]:
    with live_app(tmp_path_factory.mktemp("import-browser"), _company) as served:
        yield served


def _imported() -> int:
    with db.transaction() as session:
        org = session.scalars(select(Organization)).one()
        with tenancy.tenant_context(session, org.id):
            return session.scalar(select(func.count(Measurement.id)))


@pytest.mark.parametrize("width", [1280, 375])
def test_a_german_csv_is_previewed_and_imported(browser, live_server, shots, tmp_path, width):
    base, (slug, cycle_id) = live_server
    days = [(date.today() - timedelta(days=n)).strftime("%d.%m.%Y") for n in (20 + width % 7, 10 + width % 7)]
    file = tmp_path / "messwerte.csv"
    file.write_bytes(
        f"Datum;Wert;Stunden/Woche;Bemerkung\n{days[0]};7,5;10;Überstunden\n{days[1]};1.234;8;\n".encode("cp1252")
    )
    before = _imported()
    with watched_page(browser, base, width, 800) as (page, watch):
        log_in(page, base, EMAIL, PASSWORD)
        page.goto(f"{base}/o/{slug}/cycles/{cycle_id}/")
        with page.expect_navigation():
            page.click("a:has-text('Aus Datei importieren')")
        page.set_input_files("input[type=file]", str(file))
        with page.expect_navigation():
            page.click("form .button--primary")
        text = page.locator("main").inner_text().replace("\xa0", " ")
        assert "1 Zeile kann importiert werden." in text and "Überstunden" in text
        assert "„1.234“ ist nicht eindeutig" in text
        assert page.locator("#measured_on").input_value() == "0"
        assert_fits(page, width)
        page.screenshot(path=shots / f"import-preview-{width}.png", full_page=True)
        page.check("#skip_invalid")
        with page.expect_navigation():
            page.click("form[method=post] .button--primary")
        assert "1 Messung importiert." in page.locator(".flashes").inner_text()
        assert not watch.problems, "\n".join(watch.problems)
    assert _imported() == before + 1
