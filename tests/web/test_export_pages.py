"""The export pages over HTTP: the data export page, its progress and download, and the printable business case."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from engpass import task_names, tenancy
from engpass.audit.models import AuditEvent
from engpass.db import utcnow
from engpass.exports import archive
from engpass.exports.models import DataExport, ExportStatus
from engpass.i18n import today_in
from tests.support.cycles import SCALED_CYCLE_SHEET, SCALED_FORECAST_SHEET, state_a_forecast


def _export(session, org):
    with tenancy.tenant_context(session, org.id):
        return session.scalars(select(DataExport).order_by(DataExport.id.desc())).first()


def _build(app, session, settings, org, export_id):
    with app.app_context(), tenancy.tenant_context(session, org.id):
        return archive.run(session, export_id, settings.export_dir)


def test_an_owner_asks_for_the_export_and_the_workers_get_it_after_the_commit(
    client, session, login, company_with_scaled_cycle, publisher
):
    org, owner, _admin, _cycle = company_with_scaled_cycle
    login(owner)
    page = client.get(f"/o/{org.slug}/exports/data")
    assert page.status_code == 200
    assert "Alle Daten der Organisation exportieren" in page.text
    assert "Einladungen (ohne ihre Links)" in page.text
    response = client.post(f"/o/{org.slug}/exports/data")
    assert response.status_code == 302 and response.location == f"/o/{org.slug}/exports/data"
    export = _export(session, org)
    assert (export.status, export.requested_by_id) == (ExportStatus.queued, owner.id)
    assert [(name, kwargs) for name, kwargs, _id in publisher.published if name == task_names.EXPORT_ORGANIZATION] == [
        (task_names.EXPORT_ORGANIZATION, {"export_id": export.id, "org_id": org.id})
    ]
    page = client.get(f"/o/{org.slug}/exports/data").text
    assert "Der Export läuft." in page
    assert f'data-status-url="/o/{org.slug}/exports/data/{export.id}/status"' in page
    # Progress without a script of the page's own: the polling script is a static file, and without
    # JavaScript the page reloads itself.
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    assert re.search(r'<script src="/static/js/export-progress\.js\?v=[0-9a-f]{16}" defer></script>', page)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "no inline script: the CSP forbids it"
    assert 'type="submit" disabled' in page

    # Asked again while it runs: the same export, no second task.
    client.post(f"/o/{org.slug}/exports/data")
    assert len([p for p in publisher.published if p[0] == task_names.EXPORT_ORGANIZATION]) == 1
    assert "Ein Export wird bereits vorbereitet" in client.get(f"/o/{org.slug}/exports/data").text


def test_progress_as_json_then_the_download_for_24_hours(
    app, client, session, settings, login, company_with_scaled_cycle
):
    org, owner, _admin, _cycle = company_with_scaled_cycle
    login(owner)
    client.post(f"/o/{org.slug}/exports/data")
    export = _export(session, org)
    status = client.get(f"/o/{org.slug}/exports/data/{export.id}/status", headers={"Accept": "application/json"})
    assert status.status_code == 200 and status.json == {"status": "queued", "progress": 0}
    assert client.get(f"/o/{org.slug}/exports/data/{export.id}/download").status_code == 404

    _build(app, session, settings, org, export.id)
    assert client.get(f"/o/{org.slug}/exports/data/{export.id}/status").json == {"status": "done", "progress": 100}
    page = client.get(f"/o/{org.slug}/exports/data").text
    assert f'href="/o/{org.slug}/exports/data/{export.id}/download"' in page
    assert "http-equiv" not in page and "Fertig" in page

    response = client.get(f"/o/{org.slug}/exports/data/{export.id}/download")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "private, no-store"
    disposition = response.headers["Content-Disposition"]
    assert f"{org.slug}-datenexport-{today_in('Europe/Berlin').isoformat()}.zip" in disposition
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        assert "data/cycles.json" in zf.namelist()
    response.close()
    with tenancy.tenant_context(session, org.id):
        stmt = select(AuditEvent).where(AuditEvent.object_type == "data_export", AuditEvent.object_id == export.id)
        actions = [e.action for e in session.scalars(stmt.order_by(AuditEvent.id))]
    assert actions == ["data_export.requested", "data_export.downloaded"]


def test_after_24_hours_the_download_is_gone_with_a_clear_message(
    app, client, session, settings, login, company_with_scaled_cycle
):
    org, owner, _admin, _cycle = company_with_scaled_cycle
    login(owner)
    client.post(f"/o/{org.slug}/exports/data")
    export = _build(app, session, settings, org, _export(session, org).id)
    with tenancy.tenant_context(session, org.id):
        export.expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
    response = client.get(f"/o/{org.slug}/exports/data/{export.id}/download")
    assert response.status_code == 410
    assert "Dieser Export ist nicht mehr verfügbar." in response.text
    assert f'href="/o/{org.slug}/exports/data"' in response.text
    assert "Abgelaufen" in client.get(f"/o/{org.slug}/exports/data").text
    # A file that vanished before its time (a cleaned disk) says the same, never a 500.
    with tenancy.tenant_context(session, org.id):
        export.expires_at = utcnow() + timedelta(hours=1)
        session.commit()
    (Path(settings.export_dir) / export.file_name).unlink()
    assert client.get(f"/o/{org.slug}/exports/data/{export.id}/download").status_code == 410


def test_a_failed_export_says_so_and_offers_no_download(client, session, login, company_with_scaled_cycle):
    org, owner, _admin, _cycle = company_with_scaled_cycle
    with tenancy.tenant_context(session, org.id):
        failed = DataExport(requested_by_id=owner.id, status=ExportStatus.failed)
        session.add(failed)
        session.commit()
    login(owner)
    page = client.get(f"/o/{org.slug}/exports/data").text
    assert "Fehlgeschlagen." in page and "/download" not in page
    assert client.get(f"/o/{org.slug}/exports/data/{failed.id}/download").status_code == 404


def test_only_owners_and_never_another_organizations_owner(
    app, client, session, settings, login, company_with_scaled_cycle, make_user, make_org
):
    org, owner, admin, _cycle = company_with_scaled_cycle
    login(owner)
    client.post(f"/o/{org.slug}/exports/data")
    export = _build(app, session, settings, org, _export(session, org).id)
    client.post("/logout")

    login(admin)
    for url in ("exports/data", f"exports/data/{export.id}/status", f"exports/data/{export.id}/download"):
        assert client.get(f"/o/{org.slug}/{url}").status_code == 403
    assert client.post(f"/o/{org.slug}/exports/data").status_code == 403
    assert "exports/data" not in client.get(f"/o/{org.slug}/settings").text
    client.post("/logout")

    stranger = make_user()
    other = make_org("Andere GmbH", owner=stranger)
    login(stranger)
    # The export's id under the stranger's own organization: not theirs, so it does not exist.
    for url in (f"exports/data/{export.id}/status", f"exports/data/{export.id}/download"):
        assert client.get(f"/o/{other.slug}/{url}").status_code == 404
        assert client.get(f"/o/{org.slug}/{url}").status_code == 404
    client.post("/logout")
    login(owner)
    assert f'href="/o/{org.slug}/exports/data"' in client.get(f"/o/{org.slug}/settings").text


def test_the_printable_business_case_shows_every_figure_with_its_formula(
    client, session, login, company_with_scaled_cycle
):
    org, owner, admin, cycle = company_with_scaled_cycle
    with tenancy.tenant_context(session, org.id):
        state_a_forecast(session, session.merge(cycle), owner.id)
        session.commit()
    login(admin)
    show = client.get(f"/o/{org.slug}/cycles/{cycle.id}/").text
    assert f'href="/o/{org.slug}/cycles/{cycle.id}/business-case/print"' in show
    page = client.get(f"/o/{org.slug}/cycles/{cycle.id}/business-case/print")
    assert page.status_code == 200
    text = page.text.replace("\xa0", " ").replace("\u202f", " ")
    assert "Müller Metallbau GmbH" in text and "Angebote schneller" in text
    for expected in SCALED_CYCLE_SHEET + SCALED_FORECAST_SHEET:
        assert expected in text, expected
    assert "<svg" in text and "chart__svg--wide" in text
    assert f"Stand {today_in('Europe/Berlin'):%d.%m.%Y}" in text
    assert re.search(r'href="/static/css/business-case-print\.css\?v=[0-9a-f]{16}"', text)
    # Like every page (tests/web/test_route_walk.py): a skip link first, to the sheet.
    assert text.index('<a class="skip-link" href="#main">') < text.index('class="printbar__back"')
    assert '<main id="main" tabindex="-1">' in text
    assert not re.search(r"<script(?![^>]*\bsrc=)", text)


def test_the_print_page_of_another_organizations_cycle_does_not_exist(
    client, session, login, company_with_scaled_cycle, make_user, make_org
):
    org, _owner, _admin, cycle = company_with_scaled_cycle
    stranger = make_user()
    other = make_org("Andere GmbH", owner=stranger)
    login(stranger)
    assert client.get(f"/o/{other.slug}/cycles/{cycle.id}/business-case/print").status_code == 404
    assert client.get(f"/o/{org.slug}/cycles/{cycle.id}/business-case/print").status_code == 404
