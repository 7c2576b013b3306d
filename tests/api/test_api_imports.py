"""Importing measurements over the API: multipart, dry run with row errors, one transaction, other tenants."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.cycles import service
from engpass.cycles.models import Category, KpiDirection, Measurement, SolutionType
from engpass.organizations.models import Role
from tests.support.api import bearer, in_org, make_token

URL = "/api/v1/cycles/{}/measurements/import"


def _day(days_ago: int) -> str:
    return (date.today() - timedelta(days=days_ago)).strftime("%d.%m.%Y")


def _started(session, owner, *, start: bool = True):
    def build(s):
        cycle = service.create_cycle(
            s,
            title="Angebote",
            category=Category.quoting,
            why="Hebel",
            owner_id=owner.id,
            actor_id=owner.id,
            confirm_second_open=True,
        )
        baseline = {"hours_per_week": Decimal(14), "kpi_name": "Dauer", "kpi_unit": "Tage", "kpi_baseline": Decimal(9)}
        service.save_baseline(s, cycle, {**baseline, "kpi_direction": KpiDirection.lower}, None, owner.id)
        service.save_solution(s, cycle, {"solution_what": "V", "solution_type": SolutionType.other}, owner.id)
        if start:
            service.start_prototype(s, cycle, {"prototype_start": date.today() - timedelta(days=30)}, owner.id)
        return cycle.id

    return build


@pytest.fixture
def world(session, make_user, make_org):
    owner = make_user()
    viewer = make_user()
    org = make_org("Keller Metall GmbH", owner=owner, members={viewer: Role.viewer})
    cycle_id = in_org(session, org, _started(session, owner))
    return org, make_token(session, org, owner), make_token(session, org, viewer), cycle_id


def _post(client, token, cycle_id, content: bytes, name="werte.csv", **form):
    data = {"file": (io.BytesIO(content), name), **form}
    return client.post(URL.format(cycle_id), headers=bearer(token), data=data, content_type="multipart/form-data")


def _count(session, org, model) -> int:
    with tenancy.tenant_context(session, org.id):
        return session.scalar(select(func.count()).select_from(model))


def test_a_dry_run_previews_and_an_import_saves(client, session, world):
    org, token, _viewer, cycle_id = world
    content = f"Messdatum;KPI;Bemerkung\n{_day(10)};7,5;erste\n{_day(3)};6;\n".encode("cp1252")
    dry = _post(client, token, cycle_id, content, dry_run="true", measured_on="Messdatum", kpi_value="KPI")
    assert dry.status_code == 200, dry.text
    body = dry.json
    assert body["mapping"] == {
        "measured_on": "Messdatum",
        "kpi_value": "KPI",
        "hours_per_week": None,
        "cost_per_week": None,
        "note": "Bemerkung",
    }
    assert body["valid_rows"] == 2 and body["imported"] == 0
    assert body["rows"][0]["values"]["kpi_value"] == "7.5000" and body["rows"][0]["errors"] == []
    assert _count(session, org, Measurement) == 0

    done = _post(client, token, cycle_id, content, measured_on="Messdatum", kpi_value="KPI")
    assert done.status_code == 201, done.text
    assert done.json["imported"] == 2
    assert _count(session, org, Measurement) == 2
    with tenancy.tenant_context(session, org.id):
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "measurements.imported")).all()
        assert [event.details["count"] for event in events] == [2]


def test_rows_with_errors_are_a_422_per_row_and_nothing_is_saved(client, session, world):
    org, token, _viewer, cycle_id = world
    content = f"Datum;Wert\n{_day(5)};1.234\n{_day(-2)};3\n{_day(4)};2\n".encode()
    refused = _post(client, token, cycle_id, content)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    lines = [(error["line"], error["message"]) for error in refused.json["errors"]]
    assert [line for line, _message in lines] == [2, 3]
    assert "nicht eindeutig" in lines[0][1]
    assert _count(session, org, Measurement) == 0
    dry = _post(client, token, cycle_id, content, dry_run="true")
    assert dry.status_code == 200 and dry.json["invalid_rows"] == 2
    skipped = _post(client, token, cycle_id, content, skip_invalid="true")
    assert skipped.status_code == 201 and skipped.json["imported"] == 1
    assert _count(session, org, Measurement) == 1


def test_english_notation_follows_accept_language(client, world):
    _org, token, _viewer, cycle_id = world
    response = client.post(
        URL.format(cycle_id),
        headers=bearer(token, **{"Accept-Language": "en"}),
        data={"file": (io.BytesIO(f'Date,Value\n{_day(2)},"1,234.5"\n'.encode()), "x.csv"), "dry_run": "1"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.json["rows"][0]["values"]["kpi_value"] == "1234.5000"


@pytest.mark.parametrize(
    ("content", "form", "field"),
    [
        (b"\x00\x01garbage", {}, "file"),
        (b"", {}, "file"),
        (b"01.12.2026;5\n", {}, "file"),
        (b"A;B\n1;2\n", {}, "file"),
        (b"Datum;Wert\n01.12.2026;5\n", {"kpi_value": "Nope"}, "kpi_value"),
        (b"Datum;Wert\n01.12.2026;5\n", {"dry_run": "maybe"}, "dry_run"),
    ],
)
def test_bad_files_and_fields_are_422_problems(client, session, world, content, form, field):
    org, token, _viewer, cycle_id = world
    response = _post(client, token, cycle_id, content, **form)
    assert response.status_code == 422, response.text
    assert response.json["errors"][0]["field"] == field
    assert _count(session, org, Measurement) == 0


def test_no_file_too_large_json_and_stage_are_refused(client, session, world, make_user, make_org):
    org, token, viewer_token, cycle_id = world
    no_file = client.post(
        URL.format(cycle_id), headers=bearer(token), data={"dry_run": "true"}, content_type="multipart/form-data"
    )
    assert no_file.status_code == 422
    form = client.post(URL.format(cycle_id), headers=bearer(token), data={"dry_run": "true"})
    assert form.status_code == 415
    as_json = client.post(URL.format(cycle_id), headers=bearer(token), json={"file": "x"})
    assert as_json.status_code == 422
    body = b'--B\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n\r\n'
    body += b"a;b\n" * (6 * 1024 * 1024 // 4) + b"\r\n--B--\r\n"
    huge = client.post(
        URL.format(cycle_id), headers=bearer(token), data=body, content_type="multipart/form-data; boundary=B"
    )
    assert huge.status_code == 413 and huge.mimetype == "application/problem+json"
    viewer = _post(client, viewer_token, cycle_id, b"Datum;Wert\n01.12.2026;5\n")
    assert viewer.status_code == 403
    owner = make_user()
    fresh = in_org(session, org, _started(session, owner, start=False))
    early = _post(client, token, fresh, f"Datum;Wert\n{_day(1)};5\n".encode())
    assert early.status_code == 409
    other_owner = make_user()
    other = make_org("Fremde AG", owner=other_owner)
    theirs = in_org(session, other, _started(session, other_owner))
    assert _post(client, token, theirs, f"Datum;Wert\n{_day(1)};5\n".encode()).status_code == 404
    assert _count(session, other, Measurement) == 0


def test_the_operation_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/cycles/{cycle_id}/measurements/import"]["post"]
    assert operation["operationId"] == "import_measurements"
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"200", "201", "409", "422"} <= set(operation["responses"])
