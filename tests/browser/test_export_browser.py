"""A real browser prints the business case on one A4 page, and follows a data export until it can be downloaded.

Debian's Chromium driven by Playwright, the app served from its own SQLite file (see ``tests.support.browser``).
Set ``ENGPASS_SCREENSHOT_DIR`` to keep the screenshots.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.service import sign_up
from engpass.cycles import service as cycles
from engpass.db import db
from engpass.exports import archive
from engpass.exports.models import DataExport
from engpass.extensions import babel
from engpass.i18n import select_locale
from engpass.settings import REPO_ROOT
from tests.support.browser import live_app, log_in, watched_page
from tests.support.cycles import scaled_quoting_cycle

EMAIL = "sabine.export@example.com"
PASSWORD = "sicheres-passwort-42"
LONG = (
    "Angebote dauern neun Tage, weil jede Anfrage erst geprüft, dann von der Technik kalkuliert und "
    "schließlich vom Vertrieb geschrieben wird. Dazwischen liegen Rückfragen, Urlaube und Übergaben. "
) * 6


@dataclass
class LiveServer:
    url: str
    slug: str
    org_id: int
    short_id: int
    long_id: int
    root: Path


def _company(session: Session) -> tuple[str, int, int, int]:
    user, org = sign_up(session, name="Sabine Müller", email=EMAIL, password=PASSWORD, company="Müller Metallbau GmbH")
    session.flush()
    with tenancy.tenant_context(session, org.id):
        short = scaled_quoting_cycle(session, user, title="Angebote schneller schreiben")
        long = cycles.create_cycle(
            session,
            # As long as a title may be (200 characters): the worst case for one page.
            title=(
                "Auftragsbestätigungen ohne Fehler – vom Eingang bis zur Auslieferung an den Kunden, "
                "mit allen Rückfragen der Fertigung und des Einkaufs " * 2
            )[:200],
            category=short.category,
            why=LONG,
            owner_id=user.id,
            actor_id=user.id,
            confirm_second_open=True,
        )
        cycles.save_baseline(
            session,
            long,
            {
                "hours_per_week": Decimal("22.5"),
                "direct_cost_per_week": Decimal("1450.75"),
                "indirect_cost_per_week": Decimal("380"),
                "kpi_name": "Fehlerquote der Auftragsbestätigungen",
                "kpi_unit": "%",
                "kpi_direction": short.kpi_direction,
                "kpi_baseline": Decimal("12.5"),
                "kpi_target": Decimal("2"),
            },
            None,
            user.id,
        )
        cycles.save_solution(
            session,
            long,
            {
                "solution_what": LONG,
                "solution_type": short.solution_type,
                "expected_effect": LONG,
                "effort_days": Decimal("12.5"),
                "one_off_cost": Decimal("2400"),
                "running_cost_per_month": Decimal("89.9"),
            },
            user.id,
        )
        start = date.today() - timedelta(days=60)
        cycles.start_prototype(session, long, {"prototype_start": start}, user.id)
        for week in range(9):
            measured = {
                "measured_on": start + timedelta(days=7 * week),
                "kpi_value": Decimal("12.5") - Decimal(week) * Decimal("1.1"),
                "hours_per_week": Decimal("22.5") - week,
                "cost_per_week": Decimal("1800") - 90 * week,
                "note": "Woche",
            }
            cycles.add_measurement(session, long, measured, user.id)
        cycles.decide(
            session,
            long,
            {
                "decision": short.decision,
                "decision_reason": LONG,
                "lessons_worked": "Vorlage",
                "lessons_failed": "Export",
                "lessons_differently": "Früher messen",
            },
            user.id,
        )
        return org.slug, org.id, short.id, long.id


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("export-browser")
    with live_app(root, _company) as (url, (slug, org_id, short_id, long_id)):
        yield LiveServer(url, slug, org_id, short_id, long_id, root)


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.mark.parametrize("which", ["short", "long"])
def test_the_business_case_prints_on_one_a4_page(browser, live_server, shots, which):
    cycle_id = live_server.short_id if which == "short" else live_server.long_id
    with watched_page(browser, live_server.url, 1280) as (page, watch):
        log_in(page, live_server.url, EMAIL, PASSWORD)
        page.goto(f"{live_server.url}/o/{live_server.slug}/cycles/{cycle_id}/")
        with page.expect_navigation():
            page.click("text=Business Case drucken")
        assert page.url.endswith(f"/cycles/{cycle_id}/business-case/print")
        # The print button appears because its script ran (a static file, allowed by the CSP).
        assert page.locator("[data-print]").is_visible()
        assert "Einsparung pro Jahr" in page.locator(".keys").inner_text()
        page.screenshot(path=shots / f"business-case-print-{which}-screen.png", full_page=True)

        page.emulate_media(media="print")
        assert not page.locator(".printbar").is_visible()
        assert page.locator(".chart__svg--wide").is_visible()
        assert not page.locator(".chart__svg--compact").is_visible()
        sheet = page.locator(".sheet").bounding_box()
        # 297 mm at 96 dpi: the sheet is exactly one A4 page tall, and its content fits inside it.
        assert abs(sheet["height"] - 297 / 25.4 * 96) < 2, sheet
        overflow = page.evaluate(
            "(() => { const s = document.querySelector('.sheet'); return s.scrollHeight - s.clientHeight; })()"
        )
        assert overflow <= 0, f"the content is {overflow}px taller than the page"
        page.screenshot(path=shots / f"business-case-print-{which}-print.png", full_page=True)
        pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        (shots / f"business-case-{which}.pdf").write_bytes(pdf)
        assert pdf.startswith(b"%PDF") and _pdf_pages(pdf) == 1
        assert not watch.problems, watch.problems
        assert "/static/css/business-case-print.css" in watch.static_loaded
        assert "/static/js/print-button.js" in watch.static_loaded


def _build_export(live_server: LiveServer, export_id: int) -> None:
    """What the worker does, in this process, on the live server's database (the server has no worker)."""
    worker_app = Flask("export-worker-stand-in")
    worker_app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(REPO_ROOT / "platform" / "engpass" / "translations")
    babel.init_app(worker_app, locale_selector=select_locale)
    with worker_app.app_context():
        session = db.factory()
        try:
            with tenancy.tenant_context(session, live_server.org_id):
                archive.run(session, export_id, live_server.root / "instance" / "exports")
        finally:
            session.close()


def test_an_owner_follows_the_export_and_downloads_it(browser, live_server, shots, tmp_path):
    with watched_page(browser, live_server.url, 1280, accept_downloads=True) as (page, watch):
        log_in(page, live_server.url, EMAIL, PASSWORD)
        page.goto(f"{live_server.url}/o/{live_server.slug}/settings")
        with page.expect_navigation():
            page.click("text=Datenexport: alle Daten der Organisation als ZIP-Datei")
        with page.expect_navigation():
            page.click("text=Export vorbereiten")
        assert "Der Export läuft." in page.locator(".flashes").inner_text()
        assert page.locator("progress").is_visible()

        with db.transaction() as session, tenancy.tenant_context(session, live_server.org_id):
            export = session.scalars(select(DataExport)).one()
            export.progress = 40
            export_id = export.id
            # Inside the organization: leaving it first would leave the change without a tenant.
            session.commit()
        # The script asks for the progress every two seconds and shows it.
        expect(page.locator("[data-progress-label]")).to_have_text(re.compile(r"^40\s?%$"), timeout=10_000)
        assert page.evaluate("document.querySelector('progress').value") == 40
        page.screenshot(path=shots / "data-export-progress.png", full_page=True)

        _build_export(live_server, export_id)
        # Done: the script reloads the page, which offers the download.
        download_link = page.locator(f"a[href$='/exports/data/{export_id}/download']")
        download_link.wait_for(timeout=15_000)
        page.screenshot(path=shots / "data-export-ready.png", full_page=True)
        with page.expect_download() as info:
            download_link.click()
        download = info.value
        assert re.fullmatch(
            rf"{live_server.slug}-datenexport-\d{{4}}-\d{{2}}-\d{{2}}\.zip", download.suggested_filename
        )
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        with zipfile.ZipFile(target) as zf:
            assert {"manifest.json", "data/cycles.json", "csv/cycles.csv"} <= set(zf.namelist())
        assert not watch.problems, watch.problems
        assert "/static/js/export-progress.js" in watch.static_loaded
