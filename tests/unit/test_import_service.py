"""The import's domain functions over a real session: preview rules, one transaction, nothing on errors."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from babel import Locale
from sqlalchemy import func, select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, KpiDirection, Measurement, SolutionType, Stage
from engpass.cycles.rules import StageRuleViolation
from engpass.i18n import today_in
from engpass.imports import service
from engpass.imports.models import MeasurementUpload
from engpass.imports.parsing import read_table
from engpass.imports.rows import guess_mapping
from engpass.trends.models import TrendState

DE = Locale("de")


@pytest.fixture
def ctx(app, session, make_user, make_org):
    owner = make_user(name="Sabine")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    with app.test_request_context(headers={"Accept-Language": "de"}), tenancy.tenant_context(session, org.id):
        cycle = cycles.create_cycle(
            session, title="Angebote", category=Category.quoting, why="Hebel", owner_id=owner.id, actor_id=owner.id
        )
        baseline = {
            "hours_per_week": Decimal(14),
            "kpi_name": "Dauer",
            "kpi_unit": "Tage",
            "kpi_direction": KpiDirection.lower,
        }
        cycles.save_baseline(session, cycle, {**baseline, "kpi_baseline": Decimal(9)}, None, owner.id)
        cycles.save_solution(session, cycle, {"solution_what": "V", "solution_type": SolutionType.other}, owner.id)
        session.commit()
        yield session, owner, cycle


def _start(session, cycle, owner, days_ago: int = 30) -> None:
    cycles.start_prototype(
        session, cycle, {"prototype_start": today_in("Europe/Berlin") - timedelta(days=days_ago)}, owner.id
    )
    session.commit()


def _preview(session, cycle, text: str):
    table = read_table(text.encode())
    return service.preview(session, cycle, "werte.csv", table, guess_mapping(table.headers), DE)


def _day(days_ago: int) -> str:
    return (today_in("Europe/Berlin") - timedelta(days=days_ago)).strftime("%d.%m.%Y")


def test_valid_rows_are_imported_in_one_go_with_one_audit_event(ctx):
    session, owner, cycle = ctx
    _start(session, cycle, owner)
    result = _preview(session, cycle, f"Datum;Wert;Stunden\n{_day(10)};7,5;10\n{_day(3)};6;8\n")
    assert [row.ok for row in result.rows] == [True, True]
    assert service.import_rows(session, cycle, result, owner.id) == 2
    session.commit()
    assert session.scalar(select(func.count(Measurement.id))) == 2
    assert cycle.stage == Stage.result  # the first measurement moves a running prototype on, as one would
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "measurements.imported")).all()
    assert [event.details for event in events] == [{"count": 2, "source": "werte.csv"}]
    state = session.scalars(select(TrendState).execution_options(populate_existing=True)).one()
    assert state.dirty_since is not None and state.dirty_since <= today_in("Europe/Berlin") - timedelta(days=10)


def test_nothing_is_imported_while_a_row_has_an_error(ctx):
    session, owner, cycle = ctx
    _start(session, cycle, owner)
    result = _preview(session, cycle, f"Datum;Wert\n{_day(10)};7,5\n{_day(3)};1.234\n")
    assert [row.ok for row in result.rows] == [True, False]
    with pytest.raises(service.ImportRefused):
        service.import_rows(session, cycle, result, owner.id)
    session.rollback()
    assert session.scalar(select(func.count(Measurement.id))) == 0
    assert service.import_rows(session, cycle, result, owner.id, skip_invalid=True) == 1


def test_dates_follow_the_forms_rules_and_duplicates_are_flagged(ctx):
    session, owner, cycle = ctx
    _start(session, cycle, owner, days_ago=20)
    cycles.add_measurement(
        session,
        cycle,
        {"measured_on": today_in("Europe/Berlin") - timedelta(days=5), "kpi_value": Decimal(5)},
        owner.id,
    )
    session.commit()
    text = f"Datum;Wert\n{_day(-1)};1\n{_day(25)};1\n{_day(5)};1\n{_day(4)};1\n{_day(4)};2\n"
    errors = [row.errors for row in _preview(session, cycle, text).rows]
    assert "nach heute" in errors[0][0]
    assert "Start des Prototyps" in errors[1][0]
    assert "bereits eine Messung" in errors[2][0]
    assert errors[3] == []
    assert "dasselbe Datum wie in Zeile 5" in errors[4][0]


def test_before_the_prototype_nothing_is_imported(ctx):
    session, owner, cycle = ctx
    result = _preview(session, cycle, f"Datum;Wert\n{_day(1)};1\n")
    with pytest.raises(StageRuleViolation):
        service.import_rows(session, cycle, result, owner.id)


def test_a_mapping_needs_date_and_value_in_distinct_columns(ctx):
    session, _owner, cycle = ctx
    table = read_table(b"A;B\n1;2\n")
    for mapping in ({"measured_on": 0, "kpi_value": None}, {"measured_on": 0, "kpi_value": 0}, {"measured_on": 9}):
        with pytest.raises(service.ImportRefused):
            service.preview(session, cycle, "x.csv", table, mapping, DE)


def test_an_upload_replaces_the_same_persons_earlier_one(ctx):
    session, owner, cycle = ctx
    service.store_upload(session, cycle, owner.id, "a.csv", b"Datum;Wert\n01.12.2026;1\n")
    second = service.store_upload(session, cycle, owner.id, "b.csv", b"Datum;Wert\n01.12.2026;1\n")
    session.commit()
    assert session.scalars(select(MeasurementUpload.file_name)).all() == ["b.csv"]
    assert service.upload_of(session, cycle, second.id, owner.id + 1) is None
