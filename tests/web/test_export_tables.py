"""The cycle table's exports over HTTP: CSV and Excel read back and compared, value by value, with the database."""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from flask_babel import force_locale, refresh
from sqlalchemy import select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.cycles import indirect_costs, indirect_service, service
from engpass.cycles.business_case import compute, latest, status_quo_cost
from engpass.cycles.forecast import achieved_share, forecast_case
from engpass.cycles.forms import DECISION_LABELS, DIRECTION_LABELS, SOLUTION_TYPE_LABELS, STAGE_LABELS
from engpass.cycles.models import Category, Cycle, KpiDirection, Measurement, Period, SolutionType, Stage
from engpass.cycles.revenue import contribution
from engpass.cycles.templates import CATEGORY_LABELS
from engpass.exports import rows
from engpass.exports.rows import Kind
from engpass.i18n import today_in
from engpass.organizations.models import Organization, Role
from tests.support.cycles import scaled_quoting_cycle

BERLIN = ZoneInfo("Europe/Berlin")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
INJECTED_TITLE = '=HYPERLINK("http://böse.example","Klick")'


@pytest.fixture
def company(session, make_user, make_org):
    """Three cycles with umlauts, decimals, empty values and text that a spreadsheet would run — and a
    second organization whose cycle must never appear."""
    owner = make_user(name="Jürgen Müller", email="juergen@example.com")
    viewer = make_user(name="Vera Betrachter")
    org = make_org("Müller Metallbau GmbH", owner=owner, members={viewer: Role.viewer})
    other = make_org("Fremdfirma AG")
    with tenancy.tenant_context(session, other.id):
        scaled_quoting_cycle(session, owner, title="Fremder Zyklus")
        session.commit()
    today = today_in("Europe/Berlin")
    with tenancy.tenant_context(session, org.id):
        scaled_quoting_cycle(session, owner, title="Angebote für größere Aufträge").sponsor_id = owner.id
        service.create_cycle(
            session,
            title=INJECTED_TITLE,
            category=Category.leads,
            why="Äpfel; Birnen\n„Zitat“, mit Komma",
            owner_id=None,
            actor_id=owner.id,
            confirm_second_open=True,
        )
        support = service.create_cycle(
            session,
            title="Rückfragen im Support",
            category=Category.support,
            why="",
            owner_id=owner.id,
            actor_id=owner.id,
            confirm_second_open=True,
        )
        baseline = {
            # Each hour of answer time saved is worth 37.50 € a week.
            "kpi_value_per_unit": Decimal("37.50"),
            "kpi_period": Period.week,
            "hours_per_week": Decimal("12.5"),
            "direct_cost_per_week": Decimal("1234.56"),
            "kpi_name": "Antwortzeit",
            "kpi_unit": "Std.",
            "kpi_direction": KpiDirection.lower,
            "kpi_baseline": Decimal("3.1415"),
            "kpi_target": Decimal("1.5"),
        }
        service.save_baseline(session, support, baseline, None, owner.id)
        for item in (
            {"label": "=Rückruf", "kind": "errors", "quantity": Decimal(3), "unit_value": Decimal("12.34")}
            | {"period": "month", "source": "guess", "source_note": "Schätzung; grob"},
            {"label": "", "kind": "waiting", "quantity": Decimal("0.5"), "people_affected": 4}
            | {"period": "week", "source": "measured", "source_note": ""},
        ):
            indirect_service.add_item(session, support, {"unit_value": None, "people_affected": None} | item, owner.id)
        solution = {
            "solution_what": "+49 Hotline mit Textbausteinen",
            "solution_type": SolutionType.assistant,
            "effort_days": Decimal("2.5"),
            "one_off_cost": Decimal("99.90"),
            "running_cost_per_month": Decimal("12.34"),
            "forecast_hours_per_week": Decimal("8.5"),
            "forecast_kpi": Decimal("1.75"),
        }
        service.save_solution(session, support, solution, owner.id)
        service.start_prototype(session, support, {"prototype_start": today - timedelta(days=10)}, owner.id)
        first = {
            "measured_on": today - timedelta(days=3),
            "kpi_value": Decimal("2.75"),
            "hours_per_week": Decimal("10.25"),
            "cost_per_week": Decimal("1000.01"),
            "note": "-1+2 Notiz",
        }
        service.add_measurement(session, support, first, owner.id)
        second = {"measured_on": today - timedelta(days=1), "kpi_value": Decimal("2.5"), "note": "@SUM(A1)"}
        service.add_measurement(session, support, second, viewer.id)
        session.commit()
    return org, owner, viewer


def _refresh_login(client, login, user):
    client.post("/logout")
    refresh()
    login(user)


def _csv(response, delimiter=";"):
    assert response.status_code == 200, response.status_code
    body = response.data
    assert body.startswith(codecs.BOM_UTF8), "Excel needs the byte-order mark to read UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def _typed(text, kind, decimal=","):
    if text == "":
        return None
    if kind == Kind.text:
        return text
    if kind == Kind.integer:
        return int(text)
    if kind in (Kind.number, Kind.money, Kind.percent):
        assert re.fullmatch(r"-?[0-9]+([" + re.escape(decimal) + r"][0-9]+)?", text), text
        return Decimal(text.replace(decimal, "."))
    if kind == Kind.date:
        return date.fromisoformat(text)
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def _from_cell(value, kind):
    if value is None:
        return None
    if kind == Kind.date:
        return value.date()
    if kind in (Kind.number, Kind.money, Kind.percent):
        return Decimal(str(value))
    return value


def _local(moment):
    if moment is None:
        return None
    return (
        moment.replace(tzinfo=moment.tzinfo or ZoneInfo("UTC")).astimezone(BERLIN).replace(tzinfo=None, microsecond=0)
    )


def _guarded(text):
    """What a spreadsheet must see of a user's text: formulas made inert with an apostrophe."""
    if text is None or text == "":
        return None
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _label(labels, value):
    return None if value is None else str(labels[value])


def _database(session, org):
    """The organization's cycles and measurements as the database has them, outside any request."""
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        cycles = list(session.scalars(select(Cycle)))
        for cycle in cycles:
            list(cycle.indirect_cost_items)  # loaded while the tenant is set
        measurements = list(session.scalars(select(Measurement).order_by(Measurement.measured_on, Measurement.id)))
        owners = {c.id: c.owner_id for c in cycles}
    by_cycle = {c.id: [m for m in measurements if m.cycle_id == c.id] for c in cycles}
    return cycles, by_cycle, owners


def _expected_cycle(cycle, measured, people, rate, text):
    owner_name, sponsor_name = people
    case = compute(cycle, measured, rate, 52)
    status_quo = status_quo_cost(cycle, rate, 52)
    current = latest(measured)
    has_effort = cycle.effort_days is not None or bool(cycle.one_off_cost)
    return {
        "id": cycle.id,
        "title": text(cycle.title),
        "category": cycle.category.value,
        "category_label": _label(CATEGORY_LABELS, cycle.category),
        "stage": cycle.stage.value,
        "stage_label": _label(STAGE_LABELS, cycle.stage),
        "owner": owner_name,
        "sponsor": sponsor_name,
        "why": text(cycle.why),
        "previous_cycle_id": cycle.previous_cycle_id,
        "created_at": _local(cycle.created_at),
        "updated_at": _local(cycle.updated_at),
        "baseline_at": _local(cycle.baseline_at),
        "solution_at": _local(cycle.solution_at),
        "prototype_at": _local(cycle.prototype_at),
        "result_at": _local(cycle.result_at),
        "decided_at": _local(cycle.decided_at),
        "hours_per_week": cycle.hours_per_week,
        "direct_cost_per_week": cycle.direct_cost_per_week,
        "indirect_cost_per_week": cycle.indirect_cost_per_week,
        "working_weeks_per_year": 52,
        "status_quo_cost_per_year": status_quo.total if status_quo else None,
        "guessed_share": status_quo.guessed_share if status_quo else None,
        "kpi_name": text(cycle.kpi_name),
        "kpi_unit": text(cycle.kpi_unit),
        "kpi_direction": cycle.kpi_direction.value if cycle.kpi_direction else None,
        "kpi_baseline": cycle.kpi_baseline,
        "kpi_target": cycle.kpi_target,
        "solution_what": text(cycle.solution_what),
        "solution_type": cycle.solution_type.value if cycle.solution_type else None,
        "solution_type_label": _label(SOLUTION_TYPE_LABELS, cycle.solution_type),
        "expected_effect": text(cycle.expected_effect),
        "effort_days": cycle.effort_days,
        "one_off_cost": cycle.one_off_cost,
        "running_cost_per_month": cycle.running_cost_per_month,
        "prototype_start": cycle.prototype_start,
        "prototype_target": cycle.prototype_target,
        "measurement_count": len(measured),
        "last_measured_on": current.measured_on if current else None,
        "kpi_current": case.kpi_current,
        "kpi_change_percent": case.kpi_change_percent,
        "target_reached_percent": case.target_reached_percent,
        "hours_saved_per_week": case.hours_saved_per_week,
        "euros_per_year": case.euros_per_year,
        "effort_cost": case.effort_cost if has_effort else None,
        "payback_weeks": case.payback_weeks,
        "decision": cycle.decision.value if cycle.decision else None,
        "decision_label": _label(DECISION_LABELS, cycle.decision),
        "decision_reason": text(cycle.decision_reason),
        "lessons_worked": text(cycle.lessons_worked),
        "lessons_failed": text(cycle.lessons_failed),
        "lessons_differently": text(cycle.lessons_differently),
        **_expected_effects(cycle, measured, rate),
    }


def _expected_effects(cycle, measured, rate):
    """The KPI's money value and the forecast, from the domain functions the page uses."""
    case = compute(cycle, measured, rate, 52)
    expected = forecast_case(cycle, rate, 52)
    added = contribution(cycle, case.kpi_current, 52)
    forecast_added = contribution(cycle, cycle.forecast_kpi, 52)
    return {
        "kpi_value_per_unit": cycle.kpi_value_per_unit,
        "kpi_period": cycle.kpi_period.value if cycle.kpi_period else None,
        "forecast_hours_per_week": cycle.forecast_hours_per_week,
        "forecast_kpi": cycle.forecast_kpi,
        "forecast_cost_per_week": cycle.forecast_cost_per_week,
        "additional_contribution_per_year": added.per_year if added else None,
        "forecast_savings_per_year": expected.euros_per_year if expected else None,
        "forecast_contribution_per_year": forecast_added.per_year if forecast_added else None,
        "achieved_share_percent": achieved_share(expected.euros_per_year if expected else None, case.euros_per_year),
    }


def _expected_measurement(m, cycle, author, text):
    return {
        "cycle_id": cycle.id,
        "cycle_title": text(cycle.title),
        "id": m.id,
        "measured_on": m.measured_on,
        "kpi_name": text(cycle.kpi_name),
        "kpi_unit": text(cycle.kpi_unit),
        "kpi_value": m.kpi_value,
        "hours_per_week": m.hours_per_week,
        "cost_per_week": m.cost_per_week,
        "note": text(m.note),
        "created_by": author,
        "created_at": _local(m.created_at),
    }


def _expected_business_case(cycle, measured, rate, text):
    case = compute(cycle, measured, rate, 52)
    current = latest(measured)
    costs = (cycle.direct_cost_per_week, cycle.indirect_cost_per_week)
    return {
        "cycle_id": cycle.id,
        "title": text(cycle.title),
        "stage": cycle.stage.value,
        "stage_label": _label(STAGE_LABELS, cycle.stage),
        "kpi_name": text(cycle.kpi_name),
        "kpi_unit": text(cycle.kpi_unit),
        "kpi_direction": _label(DIRECTION_LABELS, cycle.kpi_direction),
        "kpi_baseline": cycle.kpi_baseline,
        "kpi_target": cycle.kpi_target,
        "last_measured_on": current.measured_on if current else None,
        "kpi_current": case.kpi_current,
        "kpi_change_percent": case.kpi_change_percent,
        "target_reached_percent": case.target_reached_percent,
        "hours_before": cycle.hours_per_week,
        "hours_now": current.hours_per_week if current else None,
        "hours_saved_per_week": case.hours_saved_per_week,
        "hourly_rate": rate,
        "cost_before": None if costs == (None, None) else sum((c or 0 for c in costs), Decimal(0)),
        "cost_now": current.cost_per_week if current else None,
        "cost_saved_per_week": case.cost_saved_per_week if current and current.cost_per_week is not None else None,
        "running_cost_per_year": case.running_cost_per_year if cycle.running_cost_per_month is not None else None,
        "euros_per_year": case.euros_per_year,
        "effort_days": cycle.effort_days,
        "one_off_cost": cycle.one_off_cost,
        "effort_cost": case.effort_cost if cycle.effort_days is not None or cycle.one_off_cost else None,
        "payback_weeks": case.payback_weeks,
        **_expected_effects(cycle, measured, rate),
    }


def _expected_item(item, cycle, rate, text):
    return {
        "cycle_id": cycle.id,
        "cycle_title": text(cycle.title),
        "id": item.id,
        "label": text(item.label),
        "kind": item.kind.value,
        "kind_label": _label(indirect_costs.KIND_LABELS, item.kind),
        "quantity": item.quantity,
        "unit_value": item.unit_value,
        "people_affected": item.people_affected,
        "period": item.period.value,
        "period_label": _label(indirect_costs.PERIOD_LABELS, item.period),
        "working_weeks_per_year": 52,
        "hourly_rate": rate,
        "cost_per_year": indirect_costs.item_cost(item, rate, 52).per_year,
        "source": item.source.value,
        "source_label": _label(indirect_costs.SOURCE_LABELS, item.source),
        "source_note": text(item.source_note),
        "created_at": _local(item.created_at),
    }


def _columns(app, session, org, key):
    with app.test_request_context(), force_locale("de"), tenancy.tenant_context(session, org.id):
        return rows.SHEETS[key](session, org, None).columns


def _expectations(app, session, org, key, text):
    """Every row the export of ``key`` must hold, by cycle (or measurement) id, as the database says."""
    cycles, by_cycle, owners = _database(session, org)
    names = {None: None}
    from engpass.accounts.models import User

    for user in session.scalars(select(User)):
        names[user.id] = user.name
    rate = session.get(Organization, org.id).default_hourly_rate
    with app.test_request_context(), force_locale("de"):
        if key == "cycles":
            return {
                c.id: _expected_cycle(c, by_cycle[c.id], (names[owners[c.id]], names[c.sponsor_id]), rate, text)
                for c in cycles
            }
        if key == "business-cases":
            return {c.id: _expected_business_case(c, by_cycle[c.id], rate, text) for c in cycles}
        if key == "indirect-costs":
            return {i.id: _expected_item(i, c, rate, text) for c in cycles for i in c.indirect_cost_items}
        return {m.id: _expected_measurement(m, c, names[m.created_by_id], text) for c in cycles for m in by_cycle[c.id]}


def _row_id(key, values):
    return values["id"] if key in ("cycles", "measurements", "indirect-costs") else values["cycle_id"]


@pytest.mark.parametrize("key", ["cycles", "measurements", "business-cases", "indirect-costs"])
def test_every_csv_value_equals_the_database(app, client, session, login, company, key):
    org, owner, _viewer = company
    login(owner)
    table = _csv(client.get(f"/o/{org.slug}/exports/{key}.csv"))
    columns = _columns(app, session, org, key)
    # The header is the user's language; every column is checked below.
    assert table[0] == [c.label for c in columns]
    if key == "cycles":
        assert table[0][:4] == ["ID", "Titel", "Kategorie (Code)", "Kategorie"]
        assert "Einsparung pro Jahr (EUR)" in table[0]
    expected = _expectations(app, session, org, key, _guarded)
    exported = {}
    for line in table[1:]:
        values = {c.key: _typed(text, c.kind) for text, c in zip(line, columns, strict=True)}
        exported[_row_id(key, values)] = values
    assert set(exported) == set(expected), "exactly the organization's rows, no other tenant's"
    for row_id, values in expected.items():
        assert exported[row_id] == values, f"{key} {row_id}"


@pytest.mark.parametrize("key", ["cycles", "measurements", "business-cases", "indirect-costs"])
def test_every_excel_value_equals_the_database_and_is_typed(app, client, session, login, company, key):
    org, owner, _viewer = company
    login(owner)
    response = client.get(f"/o/{org.slug}/exports/cycles.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    titles = {
        "cycles": "Zyklen",
        "measurements": "Messungen",
        "business-cases": "Business Cases",
        "indirect-costs": "Indirekte Kosten",
    }
    assert workbook.sheetnames == list(titles.values())
    sheet = workbook[titles[key]]
    columns = _columns(app, session, org, key)
    lines = list(sheet.iter_rows())
    assert [cell.value for cell in lines[0]] == [c.label for c in columns]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(columns))}{len(lines)}"
    # Text stays text, exactly as stored: Excel shows it, never runs it.
    expected = _expectations(app, session, org, key, lambda text: text or None)
    exported = {}
    for line in lines[1:]:
        values = {}
        for cell, column in zip(line, columns, strict=True):
            if cell.value is not None:
                if column.kind == Kind.text:
                    assert cell.data_type == "s", (column.key, cell.value)
                elif column.kind in (Kind.date, Kind.datetime):
                    assert cell.is_date, column.key
                else:
                    assert cell.data_type == "n", column.key
                if column.kind == Kind.money:
                    assert "€" in cell.number_format
            values[column.key] = _from_cell(cell.value, column.kind)
        exported[_row_id(key, values)] = values
    assert set(exported) == set(expected)
    for row_id, values in expected.items():
        assert exported[row_id] == values, f"{key} {row_id}"


def test_text_that_a_spreadsheet_would_run_is_neutralised_and_numbers_are_not(client, session, login, company):
    org, owner, _viewer = company
    login(owner)
    body = client.get(f"/o/{org.slug}/exports/cycles.csv").data.decode("utf-8-sig")
    assert "'" + INJECTED_TITLE.replace('"', '""') in body
    assert '"=HYPERLINK' not in body and ";=HYPERLINK" not in body
    assert "'+49 Hotline" in body
    measurements = client.get(f"/o/{org.slug}/exports/measurements.csv").data.decode("utf-8-sig")
    assert "'-1+2 Notiz" in measurements and "'@SUM(A1)" in measurements
    cases = _csv(client.get(f"/o/{org.slug}/exports/business-cases.csv"))
    change = cases[0].index("Veränderung der Kennzahl (%)")
    # Sabine's −55,6 % stays a negative number, without an apostrophe.
    assert "-55,6" in [line[change] for line in cases[1:]]

    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/o/{org.slug}/exports/cycles.xlsx").data))
    titles = [cell for cell in workbook["Zyklen"]["B"][1:]]
    injected = next(cell for cell in titles if cell.value == INJECTED_TITLE)
    assert injected.data_type == "s"


def test_tabs_and_carriage_returns_at_the_start_are_neutralised(client, session, login, company):
    org, owner, _viewer = company
    with tenancy.tenant_context(session, org.id):
        for title in ("\tTabulator", "\rWagenrücklauf"):
            service.create_cycle(
                session,
                title=title + " Ende",
                category=Category.other,
                why="",
                owner_id=None,
                actor_id=owner.id,
                confirm_second_open=True,
            )
        # create_cycle strips the title; a cell that starts with them can only come from elsewhere.
        for cycle in session.scalars(select(Cycle).where(Cycle.title.like("%Ende"))):
            cycle.title = ("\t" if "Tabulator" in cycle.title else "\r") + cycle.title
        session.commit()
    login(owner)
    table = _csv(client.get(f"/o/{org.slug}/exports/cycles.csv"))
    titles = {line[1] for line in table[1:]}
    assert "'\tTabulator Ende" in titles and "'\rWagenrücklauf Ende" in titles


def _table_ids(client, slug, query):
    page = client.get(f"/o/{slug}/cycles/table?{query}").text
    return [int(i) for i in re.findall(r'class="cycletable__title">\s*<a href="/o/[^/]+/cycles/(\d+)/"', page)]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "stage=decided",
        "status=open",
        "category=support",
        "q=GR%C3%96SSERE",
        "sort=title&dir=asc",
        "sort=stage&dir=desc&status=open",
        "owner=OWNER",
        "q=nichts-passt",
    ],
)
def test_the_export_holds_exactly_what_the_filters_show_in_the_same_order(client, login, company, query):
    org, owner, _viewer = company
    query = query.replace("OWNER", str(owner.id))
    login(owner)
    shown = _table_ids(client, org.slug, query)
    table = _csv(client.get(f"/o/{org.slug}/exports/cycles.csv?{query}"))
    assert [int(line[0]) for line in table[1:]] == shown
    cases = _csv(client.get(f"/o/{org.slug}/exports/business-cases.csv?{query}"))
    assert [int(line[0]) for line in cases[1:]] == shown
    measured = _csv(client.get(f"/o/{org.slug}/exports/measurements.csv?{query}"))
    cycle_order = list(dict.fromkeys(int(line[0]) for line in measured[1:]))
    assert cycle_order == [cycle_id for cycle_id in shown if cycle_id in cycle_order]
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/o/{org.slug}/exports/cycles.xlsx?{query}").data))
    assert [row[0] for row in workbook["Zyklen"].iter_rows(min_row=2, values_only=True)] == shown


def test_every_page_of_the_filtered_table_is_exported(app, client, session, login, company, monkeypatch):
    from engpass.cycles.views import board as cycle_views

    org, owner, _viewer = company
    monkeypatch.setattr(cycle_views, "PAGE_SIZE", 2)
    login(owner)
    assert len(_table_ids(client, org.slug, "page=2")) == 1
    table = _csv(client.get(f"/o/{org.slug}/exports/cycles.csv?page=2"))
    assert len(table) == 1 + 3


def test_english_speakers_get_commas_and_decimal_points(client, session, login, company):
    org, owner, _viewer = company
    owner.locale = "en"
    session.commit()
    login(owner)
    table = _csv(client.get(f"/o/{org.slug}/exports/cycles.csv"), delimiter=",")
    assert table[0][:4] == ["ID", "Title", "Category (code)", "Category"]
    hours = table[0].index("Hours per week")
    assert "12.5" in [line[hours] for line in table[1:]]
    cost = table[0].index("Direct cost per week (EUR)")
    assert "1234.56" in [line[cost] for line in table[1:]]


def test_an_export_is_audited_with_its_filters(client, session, login, company):
    org, owner, _viewer = company
    login(owner)
    client.get(f"/o/{org.slug}/exports/measurements.csv?stage=decided&page=3")
    client.get(f"/o/{org.slug}/exports/cycles.xlsx?q=Support")
    with tenancy.tenant_context(session, org.id):
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "cycles.exported")))
    assert [(e.actor_id, e.details["table"], e.details["format"]) for e in events] == [
        (owner.id, "measurements", "csv"),
        (owner.id, "workbook", "xlsx"),
    ]
    assert events[0].details["filters"] == {"stage": "decided", "sort": "updated", "dir": "desc"}
    assert events[0].details["rows"] == 1
    assert events[1].details["filters"]["q"] == "Support"


def test_viewers_export_what_they_can_see_and_file_names_say_what_and_when(client, login, company):
    org, _owner, viewer = company
    login(viewer)
    response = client.get(f"/o/{org.slug}/exports/business-cases.csv")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"{org.slug}-business-cases-{today_in('Europe/Berlin').isoformat()}.csv" in disposition
    assert response.headers["Cache-Control"] == "private, no-store"
    workbook = client.get(f"/o/{org.slug}/exports/cycles.xlsx")
    assert f"{org.slug}-zyklen-" in workbook.headers["Content-Disposition"]


def test_an_unknown_table_is_a_404(client, login, company):
    org, owner, _viewer = company
    login(owner)
    for name in ("users", "CYCLES", "cycles.json", "..%2Fcycles"):
        assert client.get(f"/o/{org.slug}/exports/{name}.csv").status_code == 404


def test_the_table_page_links_its_filters_to_every_export(client, login, company):
    org, owner, _viewer = company
    login(owner)
    page = client.get(f"/o/{org.slug}/cycles/table?stage=decided&sort=title&dir=asc&page=1").text
    for target in ("cycles.xlsx", "cycles.csv", "measurements.csv", "business-cases.csv", "indirect-costs.csv"):
        assert re.search(rf'href="/o/{org.slug}/exports/{re.escape(target)}\?[^"]*stage=decided', page), target
    assert "page=" not in re.search(r'href="(/o/[^"]+/exports/cycles\.xlsx[^"]*)"', page).group(1)


def _grow(session, org, owner, count):
    """More decided cycles with measurements, straight into the tables."""
    with tenancy.tenant_context(session, org.id):
        for number in range(count):
            cycle = Cycle(
                title=f"Zyklus {number}",
                category=Category.reporting,
                stage=Stage.decided,
                owner_id=owner.id,
                hours_per_week=Decimal(10),
                kpi_baseline=Decimal(5),
                kpi_direction=KpiDirection.lower,
            )
            session.add(cycle)
            session.flush()
            for day in range(3):
                session.add(
                    Measurement(
                        cycle_id=cycle.id,
                        measured_on=today_in("Europe/Berlin") - timedelta(days=day),
                        kpi_value=Decimal(4 - day),
                        hours_per_week=Decimal(8),
                    )
                )
        session.commit()


@pytest.mark.parametrize(
    "url", ["exports/cycles.csv", "exports/measurements.csv", "exports/indirect-costs.csv", "exports/cycles.xlsx"]
)
def test_queries_do_not_grow_with_the_number_of_cycles(client, session, login, company, count_queries, url):
    org, owner, _viewer = company
    login(owner)
    client.get(f"/o/{org.slug}/{url}")
    with count_queries() as few:
        assert client.get(f"/o/{org.slug}/{url}?status=decided").status_code == 200
    _grow(session, org, owner, 12)
    with count_queries() as many:
        response = client.get(f"/o/{org.slug}/{url}?status=decided")
    assert response.status_code == 200
    assert many.count == few.count, many.statements


def test_a_large_file_is_sent_from_disk_with_the_same_content(client, login, company, monkeypatch):
    from engpass.exports import views

    org, owner, _viewer = company
    login(owner)
    small = client.get(f"/o/{org.slug}/exports/cycles.csv").data
    monkeypatch.setattr(views, "IN_MEMORY", 64)
    response = client.get(f"/o/{org.slug}/exports/cycles.csv")
    try:
        assert response.status_code == 200 and response.data == small
    finally:
        # The response closes (and so deletes) the temporary file, as a WSGI server does once it is sent.
        response.close()
