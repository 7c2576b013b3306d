"""The organization's data export: what the ZIP holds, its progress, its worker task, expiry and clean-up."""

from __future__ import annotations

import csv
import io
import json
import os
import time
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, select

from engpass import task_names, tenancy
from engpass.audit.models import AuditEvent
from engpass.candidates import service as candidates
from engpass.candidates.models import Candidate
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel, AccessRequest, ClientAccess
from engpass.cycles import indirect_service
from engpass.cycles.models import (
    Cycle,
    CycleTemplate,
    IndirectCostItem,
    KpiDirection,
    Measurement,
    ProcessStep,
    StageChange,
)
from engpass.db import Base, utcnow
from engpass.exports import archive, service, tables
from engpass.exports.models import DataExport, ExportStatus
from engpass.organizations.models import Membership, Organization, OrgKind, Role
from engpass.outbox.models import OutboxMessage
from engpass.team import service as team
from engpass.team.models import Invitation
from engpass.tenancy import TenantScoped
from engpass.trends import service as trends
from engpass.trends.models import TrendSnapshot, TrendState
from tests.support.cycles import scaled_quoting_cycle

SECRET_HASH = "f" * 64
SECRET_PREFIX = "f" * 40


# --- which tables -------------------------------------------------------------------------------


def test_every_table_that_names_an_organization_is_exported_or_excluded_with_a_reason():
    exported = {source.table for source in tables.sources()}
    assert not exported & set(tables.EXCLUDED), "a table is both exported and excluded"
    missing = tables.organization_tables() - exported - set(tables.EXCLUDED)
    assert not missing, f"export these tables (exports/tables.py) or list them in EXCLUDED with the reason: {missing}"
    assert all(len(reason) > 20 for reason in tables.EXCLUDED.values())
    # Every tenant-owned table among them, whatever its room.
    tenant = {m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)}
    assert tenant <= exported | set(tables.EXCLUDED)
    assert {"organizations", "memberships", "cycles", "measurements", "audit_events", "invitations"} <= exported


def test_no_exported_column_looks_like_a_credential_unless_left_out_on_purpose():
    exported = {source.table for source in tables.sources()}
    for mapper in Base.registry.mappers:
        table = mapper.local_table.name
        if table not in exported:
            continue
        for column in mapper.local_table.columns:
            if tables.SECRET_COLUMN.search(column.name):
                assert column.name in tables.OMITTED_COLUMNS.get(table, {}), (
                    f"{table}.{column.name} looks like a credential: list it in OMITTED_COLUMNS with the reason"
                )
    for table, columns in tables.OMITTED_COLUMNS.items():
        real = {c.name for c in Base.metadata.tables[table].columns}
        assert set(columns) <= real, f"OMITTED_COLUMNS names columns {table} does not have"


# --- the archive --------------------------------------------------------------------------------


@pytest.fixture
def world(session, make_user, make_org):
    """A company with one of everything a table can hold, a consultancy with access to it, and a competitor
    whose data must not appear anywhere in the company's archive."""
    owner = make_user(name="Jürgen Müller", email="juergen@example.com")
    member = make_user(name="Änne Schäfer", email="aenne@example.com")
    org = make_org("Müller Metallbau GmbH", owner=owner, members={member: Role.member})
    firm = make_org("Beratung Nord", owner=make_user(name="Berater"), kind=OrgKind.consultancy)
    rival = make_org("Konkurrenz AG", owner=make_user(name="Rivale", email="rivale@example.com"))
    rival_firm = make_org("Beratung Süd", owner=make_user(), kind=OrgKind.consultancy)
    consulting.grant(session, org, firm, AccessLevel.read, owner.id)
    consulting.grant(session, rival, rival_firm, AccessLevel.edit, None)
    consulting.request_access(session, rival_firm, org.slug, AccessLevel.read, "Bitte Zugang", None)
    session.commit()
    for company, person, title in ((rival, owner, "Geheimprojekt Konkurrenz"), (org, owner, "Angebote")):
        with tenancy.tenant_context(session, company.id):
            cycle = scaled_quoting_cycle(session, person, title=title)
            cycle.steps.append(ProcessStep(position=1, name="Anfrage prüfen", role="Vertrieb", minutes=30))
            cycle.direct_cost_per_week = Decimal("1234.56")
            item = {"label": f"Nacharbeit {title}", "kind": "errors", "quantity": Decimal(6), "unit_value": Decimal(85)}
            item |= {"people_affected": None, "period": "month", "source": "guess", "source_note": "Gutschriften"}
            indirect_service.add_item(session, cycle, item, person.id)
            session.add(
                CycleTemplate(
                    category=cycle.category,
                    name=f"Vorlage {title}",
                    kpi_name="Dauer",
                    kpi_unit="Tage",
                    kpi_direction=KpiDirection.lower,
                    solutions=["Vorlage", "Checkliste"],
                )
            )
            membership = session.scalars(
                select(Membership).where(Membership.organization_id == company.id, Membership.role == Role.owner)
            ).first()
            candidates.propose(session, {"title": f"Kandidat {title}", "cost_per_week": Decimal("150.00")}, person.id)
            invitation = team.invite(session, company, membership, f"neu-{company.id}@example.com", Role.viewer)
            invitation.token_hash = SECRET_HASH[:-9] + str(company.id).zfill(9)
            session.flush()
            trends.recompute(session, full=True)
            session.commit()
    return org, owner, rival


def _run(app, session, org, owner, export_dir):
    with app.app_context(), tenancy.tenant_context(session, org.id):
        export, created = service.request_export(session, owner.id)
        session.commit()
        assert created
        return archive.run(session, export.id, export_dir)


def _json(zf, table):
    return json.loads(zf.read(f"data/{table}.json"))


def _ids(session, model, org):
    with tenancy.tenant_context(session, org.id):
        return {row.id for row in session.scalars(select(model))}


def test_the_archive_holds_every_row_of_every_table_and_nothing_of_another_organization(app, session, world, tmp_path):
    org, owner, rival = world
    export = _run(app, session, org, owner, tmp_path)
    assert export.status == ExportStatus.done and export.progress == 100
    assert export.expires_at - export.finished_at == timedelta(hours=24)
    path = tmp_path / export.file_name
    assert path.is_file() and export.size_bytes == path.stat().st_size
    assert path.parent == tmp_path / str(org.id)
    assert not list(path.parent.glob("*.part"))

    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["format_version"] == archive.FORMAT_VERSION
        assert manifest["organization"] == {"id": org.id, "name": org.name, "slug": org.slug}
        assert manifest["requested_by"]["email"] == "juergen@example.com"
        assert manifest["schema_revision"]
        assert manifest["excluded_tables"] == tables.EXCLUDED
        assert {entry["path"] for entry in manifest["files"]} | {"manifest.json", "README.txt"} == names

        # Every tenant-owned table: exactly the organization's rows.
        for model in (
            Cycle,
            ProcessStep,
            Measurement,
            StageChange,
            CycleTemplate,
            IndirectCostItem,
            Invitation,
            TrendSnapshot,
            TrendState,
            AuditEvent,
            Candidate,
        ):
            rows = _json(zf, model.__tablename__)
            assert {row["id"] for row in rows} == _ids(session, model, org), model.__tablename__
            assert all(row["organization_id"] == org.id for row in rows)
            counted = next(e["rows"] for e in manifest["files"] if e.get("table") == model.__tablename__)
            assert counted == len(rows) > 0

        (organization,) = _json(zf, "organizations")
        assert organization["name"] == "Müller Metallbau GmbH" and organization["default_hourly_rate"] == "65.00"
        members = {m["user_email"]: m for m in _json(zf, "memberships")}
        assert set(members) == {"juergen@example.com", "aenne@example.com"}
        assert members["aenne@example.com"]["user_name"] == "Änne Schäfer"
        assert members["aenne@example.com"]["role"] == "member"
        (access,) = _json(zf, "client_accesses")
        assert (access["client_name"], access["consultancy_name"], access["level"]) == (
            "Müller Metallbau GmbH",
            "Beratung Nord",
            "read",
        )
        (request,) = _json(zf, "access_requests")
        assert request["client_id"] == org.id and request["message"] == "Bitte Zugang"

        (invitation,) = _json(zf, "invitations")
        assert "token_hash" not in invitation and invitation["email"] == f"neu-{org.id}@example.com"
        (cycle,) = _json(zf, "cycles")
        # Exact decimals as strings, moments in UTC, days as ISO dates, codes for enumerations.
        assert cycle["direct_cost_per_week"] == "1234.56"
        assert cycle["created_at"].endswith("+00:00")
        assert cycle["stage"] == "decided" and cycle["kpi_direction"] == "lower"
        (step,) = _json(zf, "process_steps")
        assert step["name"] == "Anfrage prüfen"
        (template,) = _json(zf, "cycle_templates")
        assert template["solutions"] == ["Vorlage", "Checkliste"]
        (candidate,) = _json(zf, "bottleneck_candidates")
        assert candidate["title"] == "Kandidat Angebote" and candidate["cost_per_week"] == "150.00"
        assert candidate["hours_per_week"] is None and candidate["status"] == "open"

        # The cycle CSVs, in the requester's language.
        table = list(csv.reader(io.StringIO(zf.read("csv/cycles.csv").decode("utf-8-sig")), delimiter=";"))
        assert table[0][1] == "Titel" and [line[1] for line in table[1:]] == ["Angebote"]
        assert zf.read("csv/measurements.csv").startswith(b"\xef\xbb\xbf")
        assert "csv/business-cases.csv" in names
        (item,) = _json(zf, "indirect_cost_items")
        assert (item["kind"], Decimal(item["quantity"]), Decimal(item["unit_value"]), item["period"]) == (
            "errors",
            6,
            85,
            "month",
        )
        assert item["source"] == "guess" and item["cycle_id"] == cycle["id"]
        items = list(csv.reader(io.StringIO(zf.read("csv/indirect-costs.csv").decode("utf-8-sig")), delimiter=";"))
        assert [(line[3], line[13], line[15]) for line in items[1:]] == [
            ("Nacharbeit Angebote", "6120,00", "Vermutung")
        ]
        assert "Datenexport von Müller Metallbau GmbH" in zf.read("README.txt").decode("utf-8-sig")

        everything = b"".join(zf.read(name) for name in names).decode("utf-8-sig", errors="replace")
    # (Beratung Süd asked the company for access: that request is the company's data, and in its audit log.)
    for foreign in ("Konkurrenz", "Geheimprojekt", "rivale@example.com", SECRET_PREFIX):
        assert foreign not in everything, foreign
    assert f'"organization_id": {rival.id},' not in everything


def test_progress_is_committed_after_each_step_and_reaches_100(app, session, world, tmp_path):
    org, owner, _rival = world
    seen = []

    def remember(sess):
        for obj in list(sess.identity_map.values()):
            if isinstance(obj, DataExport):
                seen.append((obj.status, obj.progress))

    event.listen(session, "before_commit", remember)
    try:
        export = _run(app, session, org, owner, tmp_path)
    finally:
        event.remove(session, "before_commit", remember)
    progress = [value for status, value in seen if status == ExportStatus.running]
    assert len(set(progress)) >= len(tables.sources()) // 2, progress
    assert progress == sorted(progress) and max(progress) < 100
    assert seen[-1] == (ExportStatus.done, 100) and export.progress == 100


def test_a_second_delivery_of_a_finished_export_does_nothing(app, session, world, tmp_path):
    org, owner, _rival = world
    export = _run(app, session, org, owner, tmp_path)
    before = sorted(p.name for p in (tmp_path / str(org.id)).iterdir())
    with app.app_context(), tenancy.tenant_context(session, org.id):
        again = archive.run(session, export.id, tmp_path)
    assert again.file_name == export.file_name
    assert sorted(p.name for p in (tmp_path / str(org.id)).iterdir()) == before


def test_a_failure_is_recorded_and_leaves_no_half_file(app, session, world, tmp_path, monkeypatch, caplog):
    org, owner, _rival = world

    def broken(_session, _org_id):
        yield {"id": 1}
        raise RuntimeError("disk on fire")

    original = tables.sources

    def sources():
        found = original()
        found[3] = tables.Source(found[3].table, found[3].count, broken)
        return found

    monkeypatch.setattr(tables, "sources", sources)
    export = _run(app, session, org, owner, tmp_path)
    assert export.status == ExportStatus.failed and export.file_name is None
    assert list((tmp_path / str(org.id)).iterdir()) == []
    assert "disk on fire" in caplog.text


def test_the_worker_task_builds_the_archive_in_the_export_folder(app, celery, session, settings, world):
    org, owner, _rival = world
    with app.app_context(), tenancy.tenant_context(session, org.id):
        export, _ = service.request_export(session, owner.id)
        session.commit()
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.task_name == task_names.EXPORT_ORGANIZATION)
        ).one()
    assert message.kwargs == {"export_id": export.id, "org_id": org.id}
    result = celery.tasks[task_names.EXPORT_ORGANIZATION].apply(kwargs=message.kwargs)
    assert result.get() == "done"
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        done = session.get(DataExport, export.id)
        assert done.status == ExportStatus.done
    assert (Path(settings.export_dir) / done.file_name).is_file()
    assert Path(settings.export_dir) == Path(settings.instance_dir) / "exports"


# --- asking for one -----------------------------------------------------------------------------


def test_an_export_under_way_is_not_started_twice_unless_it_is_stale(app, session, world):
    org, owner, _rival = world
    with app.app_context(), tenancy.tenant_context(session, org.id):
        first, created = service.request_export(session, owner.id)
        session.commit()
        again, created_again = service.request_export(session, owner.id)
        assert (again.id, created, created_again) == (first.id, True, False)
        later = utcnow() + service.STALE_AFTER + timedelta(minutes=1)
        fresh, created_fresh = service.request_export(session, owner.id, now=later)
        session.commit()
        assert created_fresh and fresh.id != first.id and first.status == ExportStatus.failed
        assert [
            e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.object_type == "data_export"))
        ] == [
            "data_export.requested",
            "data_export.requested",
        ]


# --- expiry and clean-up -------------------------------------------------------------------------


def _age(path, hours):
    stamp = time.time() - hours * 3600
    os.utime(path, (stamp, stamp))


def test_expired_exports_refuse_the_download_and_the_clean_up_removes_them(app, session, world, tmp_path):
    org, owner, rival = world
    export = _run(app, session, org, owner, tmp_path)
    path = tmp_path / export.file_name
    assert service.available_file(export, tmp_path) == path
    with tenancy.tenant_context(session, org.id):
        export.expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
    assert service.available_file(export, tmp_path) is None

    # Leftovers: a half-written file of a worker that died long ago, and the folder of a deleted organization.
    stray = path.parent / "abgebrochen.zip.part"
    stray.write_bytes(b"half")
    _age(stray, 3)
    young = path.parent / "laeuft-gerade.zip.part"
    young.write_bytes(b"writing")
    gone = tmp_path / "999999"
    gone.mkdir()
    (gone / "alt.zip").write_bytes(b"zip")
    # A failed export of yesterday and one stuck for hours in another organization.
    with tenancy.tenant_context(session, org.id):
        session.add(DataExport(status=ExportStatus.failed, created_at=utcnow() - timedelta(hours=30)))
        session.commit()
    with tenancy.tenant_context(session, rival.id):
        stuck = DataExport(status=ExportStatus.running, created_at=utcnow() - timedelta(hours=3))
        session.add(stuck)
        session.commit()

    result = service.clean_up(session, tmp_path)
    assert not path.exists() and not stray.exists() and young.exists() and not gone.exists()
    assert (result.rows_deleted, result.files_deleted, result.marked_failed) == (2, 3, 1)
    with tenancy.tenant_context(session, org.id):
        assert session.scalars(select(DataExport)).all() == []
    with tenancy.tenant_context(session, rival.id):
        session.expire_all()
        assert session.scalars(select(DataExport)).one().status == ExportStatus.failed
    # Run again: nothing left to do, no error.
    assert service.clean_up(session, tmp_path).rows_deleted == 0


def test_the_clean_up_runs_hourly_through_beat(app, celery, session, settings, world):
    org, owner, _rival = world
    schedule = celery.conf.beat_schedule["exports-clean-up"]
    assert schedule["task"] == task_names.CLEAN_UP_EXPORTS
    export = _run(app, session, org, owner, settings.export_dir)
    with tenancy.tenant_context(session, org.id):
        export.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    assert celery.tasks[task_names.CLEAN_UP_EXPORTS].apply().get() == 1
    assert not (Path(settings.export_dir) / export.file_name).exists()
    assert session.scalar(select(Organization.id).where(Organization.id == org.id)) == org.id


def test_clean_up_leaves_current_exports_and_other_peoples_folders_alone(app, session, world, tmp_path):
    org, owner, _rival = world
    export = _run(app, session, org, owner, tmp_path)
    foreign = tmp_path / "not-an-organization"
    foreign.mkdir()
    result = service.clean_up(session, tmp_path)
    assert (result.rows_deleted, result.files_deleted) == (0, 0)
    assert (tmp_path / export.file_name).is_file() and foreign.is_dir()
    assert AccessRequest and ClientAccess  # imported for the world's consulting rows
