"""Importing measurements on the web: upload → map → preview → import, bad files, other tenants, queries."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import refresh
from sqlalchemy import func, select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.cycles import service
from engpass.cycles.models import Category, KpiDirection, Measurement, SolutionType
from engpass.imports.models import MeasurementUpload
from engpass.organizations.models import Role

CSV = "Datum;Wert;Stunden/Woche;Kosten/Woche;Notiz\n06.11.2026;7,5;10;120,50;erste Woche\n2026-11-13;6;8;;\n"


def _text(response) -> str:
    return response.get_data(as_text=True).replace("\xa0", " ")


def _cycle(session, org, owner, *, started: bool = True) -> int:
    with tenancy.tenant_context(session, org.id):
        cycle = service.create_cycle(
            session, title="Angebote", category=Category.quoting, why="Hebel", owner_id=owner.id, actor_id=owner.id
        )
        baseline = {
            "hours_per_week": Decimal(14),
            "kpi_name": "Dauer",
            "kpi_unit": "Tage",
            "kpi_direction": KpiDirection.lower,
            "kpi_baseline": Decimal(9),
            "kpi_target": Decimal(4),
        }
        service.save_baseline(session, cycle, baseline, None, owner.id)
        service.save_solution(
            session, cycle, {"solution_what": "Vorlage", "solution_type": SolutionType.other}, owner.id
        )
        if started:
            service.start_prototype(session, cycle, {"prototype_start": date(2026, 11, 2)}, owner.id)
        session.commit()
        return cycle.id


def _upload(client, url: str, content: bytes, name: str = "werte.csv"):
    refresh()
    return client.post(url, data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def _measurements(session, org) -> list[Measurement]:
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        return list(session.scalars(select(Measurement).order_by(Measurement.measured_on)))


def test_upload_map_preview_and_import(client, session, make_user, make_org, login):
    owner = make_user()
    org = make_org("Müller Metallbau GmbH", owner=owner)
    cycle_id = _cycle(session, org, owner)
    login(owner)
    base = f"/o/{org.slug}/cycles/{cycle_id}/measurements/import"
    refresh()
    assert "Aus Datei importieren" in _text(client.get(f"/o/{org.slug}/cycles/{cycle_id}/"))
    uploaded = _upload(client, base, CSV.encode("cp1252"))
    assert uploaded.status_code == 302
    preview_url = uploaded.location
    refresh()
    page = _text(client.get(preview_url))
    assert "2 Zeilen können importiert werden." in page
    assert "06.11.2026" in page and "120,50 €" in page and "erste Woche" in page
    assert _measurements(session, org) == []

    refresh()
    imported = client.post(
        preview_url,
        data={"measured_on": "0", "kpi_value": "1", "hours_per_week": "2", "cost_per_week": "3", "note": "4"},
    )
    assert imported.status_code == 303
    rows = _measurements(session, org)
    assert [(m.measured_on, m.kpi_value, m.cost_per_week) for m in rows] == [
        (date(2026, 11, 6), Decimal("7.5"), Decimal("120.50")),
        (date(2026, 11, 13), Decimal(6), None),
    ]
    with tenancy.tenant_context(session, org.id):
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "measurements.imported")).one()
        assert event.details == {"count": 2, "source": "werte.csv"}
        assert session.scalar(select(func.count(MeasurementUpload.id))) == 0
    refresh()
    assert "2 Messungen importiert." in _text(client.get(imported.location))


def test_rows_with_errors_block_the_import_unless_skipped(client, session, make_user, make_org, login):
    owner = make_user()
    org = make_org(owner=owner)
    cycle_id = _cycle(session, org, owner)
    login(owner)
    future = (date.today() + timedelta(days=3)).strftime("%d.%m.%Y")
    content = (
        'Datum,Wert\n06.11.2026,"1.234"\n01.10.2026,5\n' + future + ",5\n07.11.2026,abc\n08.11.2026,4\n08.11.2026,3\n"
    )
    uploaded = _upload(client, f"/o/{org.slug}/cycles/{cycle_id}/measurements/import", content.encode())
    refresh()
    page = _text(client.get(uploaded.location))
    assert "ist nicht eindeutig" in page
    assert "erst ab dem Start des Prototyps" in page
    assert "nach heute" in page
    assert "dasselbe Datum wie in Zeile 6" in page
    assert "1 Zeile kann importiert werden." in page and "5 Zeilen haben Fehler." in page
    refresh()
    refused = client.post(uploaded.location, data={"measured_on": "0", "kpi_value": "1"})
    assert refused.status_code == 409 and "Nichts wurde importiert" in _text(refused)
    assert _measurements(session, org) == []
    refresh()
    skipped = client.post(uploaded.location, data={"measured_on": "0", "kpi_value": "1", "skip_invalid": "y"})
    assert skipped.status_code == 303
    assert [m.measured_on for m in _measurements(session, org)] == [date(2026, 11, 8)]


def test_bad_files_are_refused_with_a_message(client, session, make_user, make_org, login):
    owner = make_user()
    org = make_org(owner=owner)
    cycle_id = _cycle(session, org, owner)
    login(owner)
    url = f"/o/{org.slug}/cycles/{cycle_id}/measurements/import"
    for content, message in (
        (b"\x00\x01\x02\xff" * 100, "kann nicht gelesen werden"),
        (b"", "Die Datei ist leer."),
        (b"   \n", "Die Datei ist leer."),
        (b"06.11.2026;5\n07.11.2026;6\n", "Die erste Zeile muss die Spalten benennen"),
        (b"PK\x03\x04garbage", "Excel-Datei kann nicht gelesen werden"),
    ):
        response = _upload(client, url, content)
        assert response.status_code == 400, content[:20]
        assert message in _text(response), content[:20]
    refresh()
    # A body built by hand: the test client would spool a file this large to disk and leave it open.
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n\r\n'
        + b"a;b\n" * (6 * 1024 * 1024 // 4)
        + b"\r\n--B--\r\n"
    )
    too_large = client.post(url, data=body, content_type="multipart/form-data; boundary=B")
    assert too_large.status_code == 413
    with tenancy.tenant_context(session, org.id):
        assert session.scalar(select(func.count(MeasurementUpload.id))) == 0


def test_before_the_prototype_nothing_is_imported(client, session, make_user, make_org, login):
    owner = make_user()
    org = make_org(owner=owner)
    cycle_id = _cycle(session, org, owner, started=False)
    login(owner)
    response = _upload(client, f"/o/{org.slug}/cycles/{cycle_id}/measurements/import", CSV.encode())
    assert response.status_code == 409 and "sobald der Prototyp" in _text(response)


def test_other_tenants_uploads_and_viewers_are_refused(client, session, make_user, make_org, login):
    owner = make_user()
    org = make_org(owner=owner)
    stranger = make_user()
    other = make_org("Fremde AG", owner=stranger)
    mine = _cycle(session, org, owner)
    theirs = _cycle(session, other, stranger)
    login(stranger)
    their_upload = _upload(client, f"/o/{other.slug}/cycles/{theirs}/measurements/import", CSV.encode()).location
    upload_id = int(re.search(r"/import/(\d+)", their_upload).group(1))
    client.post("/logout")
    login(owner)
    for method, url in (
        ("POST", f"/o/{org.slug}/cycles/{theirs}/measurements/import"),
        ("GET", f"/o/{org.slug}/cycles/{theirs}/measurements/import"),
        ("GET", f"/o/{org.slug}/cycles/{mine}/measurements/import/{upload_id}"),
        ("POST", f"/o/{org.slug}/cycles/{mine}/measurements/import/{upload_id}"),
        ("GET", f"/o/{other.slug}/cycles/{theirs}/measurements/import"),
    ):
        refresh()
        response = client.open(url, method=method, data={"measured_on": "0", "kpi_value": "1"})
        assert response.status_code == 404, f"{method} {url}"
    assert _measurements(session, other) == []
    viewer = make_user()
    with tenancy.tenant_context(session, org.id):
        from engpass.organizations.models import Membership

        session.add(Membership(user_id=viewer.id, organization_id=org.id, role=Role.viewer))
        session.commit()
    client.post("/logout")
    login(viewer)
    refresh()
    assert client.get(f"/o/{org.slug}/cycles/{mine}/measurements/import").status_code == 403


def test_csrf_is_required(app, client, session, make_user, make_org, login):
    owner = make_user()
    org = make_org(owner=owner)
    cycle_id = _cycle(session, org, owner)
    login(owner)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = _upload(client, f"/o/{org.slug}/cycles/{cycle_id}/measurements/import", CSV.encode())
        assert response.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    with tenancy.tenant_context(session, org.id):
        assert session.scalar(select(func.count(MeasurementUpload.id))) == 0


def test_preview_query_count_does_not_grow_with_rows(client, session, make_user, make_org, login, count_queries):
    owner = make_user()
    org = make_org(owner=owner)
    cycle_id = _cycle(session, org, owner)
    login(owner)
    counts = []
    for rows in (10, 500):
        lines = "".join(f"{(date(2026, 11, 2) + timedelta(days=i % 30)).isoformat()};{i}\n" for i in range(rows))
        url = _upload(client, f"/o/{org.slug}/cycles/{cycle_id}/measurements/import", f"Datum;Wert\n{lines}".encode())
        url = url.location
        refresh()
        client.get(url)
        refresh()
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]
