"""The business case as a PDF file: the print page's content on one A4 page, for whoever sees the cycle."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.cycles import service as cycles
from engpass.cycles.models import Category
from engpass.i18n import today_in
from engpass.organizations.models import Role
from engpass.organizations.service import add_member
from tests.support.cycles import SCALED_CYCLE_SHEET, SCALED_FORECAST_SHEET, scaled_quoting_cycle, state_a_forecast


def _url(org, cycle_id):
    return f"/o/{org.slug}/cycles/{cycle_id}/business-case.pdf"


def _read(response):
    """The PDF's pages and its text, with the non-breaking spaces of numbers and dates as plain ones and the
    lines a narrow column wraps joined by a space."""
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


def test_the_pdf_shows_what_the_print_page_shows_on_one_page(client, session, login, company_with_scaled_cycle):
    org, owner, admin, cycle = company_with_scaled_cycle
    with tenancy.tenant_context(session, org.id):
        # With the team's forecast: forecast against result is part of the business case too.
        state_a_forecast(session, session.merge(cycle), owner.id)
        session.commit()
    login(admin)
    response = client.get(_url(org, cycle.id))
    reader, text = _read(response)
    assert len(reader.pages) == 1
    assert "Müller Metallbau GmbH" in text and "Angebote schneller" in text
    for expected in SCALED_CYCLE_SHEET + SCALED_FORECAST_SHEET:
        assert expected in text, expected
    today = today_in("Europe/Berlin")
    assert f"Stand {today:%d.%m.%Y}" in text
    # The same sections in the same order as the print page.
    position = 0
    for heading in ("Engpass", "Ist-Zustand", "Lösung", "Ergebnis: Dauer", "Business Case", "Entscheidung", "Beträge"):
        position = text.index(heading, position)
    assert reader.metadata.title == "Business Case: Angebote schneller"
    assert reader.metadata.author == "Müller Metallbau GmbH"

    name = f"{org.slug}-angebote-schneller-{today.isoformat()}.pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
    assert response.headers["Cache-Control"] == "private, no-store"
    with tenancy.tenant_context(session, org.id):
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "cycles.exported")).one()
    assert (event.actor_id, event.object_type, event.object_id) == (admin.id, "cycle", cycle.id)
    assert event.details == {"table": "business_case", "format": "pdf", "rows": 1}


def test_an_english_user_gets_english_labels(client, session, login, company_with_scaled_cycle, make_user):
    org, _owner, _admin, cycle = company_with_scaled_cycle
    reader_user = make_user(locale="en")
    add_member(session, org, reader_user, Role.viewer)
    session.commit()
    login(reader_user)
    _reader, text = _read(client.get(_url(org, cycle.id)))
    for expected in ("Business case", "Savings per year", "Amounts in EUR", "Decision", "Status quo", "€27,040"):
        assert expected in text, expected
    assert "Beträge" not in text and "Entscheidung" not in text


def test_viewers_download_it_strangers_and_missing_ids_get_404(
    client, session, login, company_with_scaled_cycle, make_user, make_org
):
    org, _owner, _admin, cycle = company_with_scaled_cycle
    viewer = make_user()
    add_member(session, org, viewer, Role.viewer)
    session.commit()
    login(viewer)
    _read(client.get(_url(org, cycle.id)))
    assert client.get(_url(org, 999_999)).status_code == 404
    client.post("/logout")

    stranger = make_user()
    other = make_org("Andere GmbH", owner=stranger)
    login(stranger)
    assert client.get(_url(other, cycle.id)).status_code == 404
    assert client.get(_url(org, cycle.id)).status_code == 404


def test_the_cycle_page_and_the_print_page_link_to_it(client, login, company_with_scaled_cycle):
    org, _owner, admin, cycle = company_with_scaled_cycle
    login(admin)
    link = f'href="{_url(org, cycle.id)}" download>PDF herunterladen</a>'
    assert link in client.get(f"/o/{org.slug}/cycles/{cycle.id}/").text
    assert link in client.get(f"/o/{org.slug}/cycles/{cycle.id}/business-case/print").text


def test_a_cycle_that_is_only_named_gives_a_sheet_of_placeholders(client, session, login, make_user, make_org):
    owner = make_user()
    org = make_org("Leer GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle = cycles.create_cycle(
            session, title="Nur ein Name", category=Category.quoting, why="", owner_id=None, actor_id=owner.id
        )
        session.commit()
    login(owner)
    reader, text = _read(client.get(_url(org, cycle.id)))
    assert len(reader.pages) == 1
    assert "Nur ein Name" in text and "Verantwortlich: –" in text
    assert "Noch keine Messungen." in text and "Noch nicht entschieden." in text
    assert "Braucht eine Messung des Ergebnisses." in text
    assert text.count("–") >= 10


def test_the_longest_texts_still_fit_one_page(client, session, login, make_user, make_org):
    owner = make_user(name="M" * 120)
    org = make_org("Lang GmbH & Co. KG <Test>", owner=owner)
    long_title = ("Angebote für Sonderanfertigungen schneller und verlässlicher schreiben " * 3)[:200]
    with tenancy.tenant_context(session, org.id):
        cycle = scaled_quoting_cycle(session, owner, title=long_title)
        for days_ago in range(1, 9):
            measured = {
                "measured_on": date.today() - timedelta(days=days_ago * 2),
                "kpi_value": Decimal(9 - days_ago / 2),
                "hours_per_week": Decimal(13),
            }
            cycles.add_measurement(session, cycle, measured, owner.id)
        text = "Ein sehr langer Absatz mit vielen Wörtern, der nicht aufhört. " * 80
        cycle.why = cycle.solution_what = cycle.decision_reason = text
        cycle.kpi_name = "K" * 120
        cycle.kpi_unit = "U" * 40
        session.commit()
    login(owner)
    reader, pdf_text = _read(client.get(_url(org, cycle.id)))
    assert len(reader.pages) == 1
    assert "Angebote für Sonderanfertigungen" in pdf_text and "…" in pdf_text
    assert "Lang GmbH & Co. KG <Test>" in pdf_text
    assert pdf_text.count("nicht aufhört") < 20
