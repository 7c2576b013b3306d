"""Cycle pages over HTTP: the board, the table, the cycle page and every form, by role and with bad input."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask_babel import refresh
from sqlalchemy import func, select

from engpass import tenancy
from engpass.cycles import service
from engpass.cycles.models import (
    Category,
    CostSource,
    Cycle,
    CycleTemplate,
    Decision,
    IndirectCostItem,
    IndirectKind,
    KpiDirection,
    Measurement,
    Period,
    ProcessStep,
    SolutionType,
    Stage,
)
from engpass.organizations.models import Role
from tests.support.cycles import BASELINE_FORM

SOLUTION = {
    "solution_what": "E-Mail-Vorlage plus Kalkulationsblatt, an das CRM angebunden",
    "solution_type": "email_automation",
    "expected_effect": "Angebote in 4 statt 9 Tagen",
    "effort_days": "6",
    "one_off_cost": "",
    "running_cost_per_month": "",
}


def _text(response) -> str:
    # Babel separates number and unit with a no-break space.
    return response.get_data(as_text=True).replace("\xa0", " ")


def _get(client, url: str):
    refresh()
    return client.get(url)


def _post(client, url: str, data: dict):
    refresh()
    return client.post(url, data=data)


@pytest.fixture
def logged_in_owner(make_user, make_org, login):
    owner = make_user(name="Sabine Müller")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    login(owner)
    return owner, org


def _base(org) -> str:
    return f"/o/{org.slug}/cycles"


def _make_cycle(session, org, owner, title="Angebote dauern 9 Tage", stage=Stage.bottleneck, measurements=0, **kw):
    """A cycle written straight through the services (or the model for speed), committed."""
    with tenancy.tenant_context(session, org.id):
        cycle = service.create_cycle(
            session,
            title=title,
            category=kw.get("category", Category.quoting),
            why="Größter Hebel",
            owner_id=owner.id,
            actor_id=owner.id,
            confirm_second_open=True,
        )
        if stage != Stage.bottleneck:
            service.save_baseline(
                session,
                cycle,
                {
                    "hours_per_week": Decimal("14"),
                    "kpi_name": "Angebotsdauer",
                    "kpi_unit": "Tage",
                    "kpi_direction": KpiDirection.lower,
                    "kpi_baseline": Decimal("9"),
                    "kpi_target": Decimal("4"),
                },
                [service.StepInput("Anfrage prüfen", "Vertrieb", 30)],
                owner.id,
            )
        if stage in (Stage.solution, Stage.prototype, Stage.result, Stage.decided):
            service.save_solution(
                session,
                cycle,
                {
                    "solution_what": "Vorlage",
                    "solution_type": SolutionType.email_automation,
                    "effort_days": Decimal("6"),
                },
                owner.id,
            )
        if stage in (Stage.prototype, Stage.result, Stage.decided):
            service.start_prototype(session, cycle, {"prototype_start": date(2026, 11, 2)}, owner.id)
        for i in range(measurements):
            service.add_measurement(
                session,
                cycle,
                {
                    "measured_on": date(2026, 11, 2) + timedelta(days=i),
                    "kpi_value": Decimal(9 - (i % 5)),
                    "hours_per_week": Decimal(6),
                },
                owner.id,
            )
        if stage == Stage.decided:
            service.decide(
                session,
                cycle,
                {
                    "decision": Decision.scale,
                    "decision_reason": "Wirkt",
                    "lessons_worked": "Vorlage",
                    "lessons_failed": "Export",
                    "lessons_differently": "Früher messen",
                },
                owner.id,
            )
        session.commit()
        return cycle.id


def _cycle(session, org, cycle_id) -> Cycle:
    session.expire_all()
    with tenancy.tenant_context(session, org.id):
        cycle = session.get(Cycle, cycle_id)
        # Load what the assertions read while the tenant is set.
        _ = (cycle.title, list(cycle.steps), list(cycle.measurements))
        return cycle


# --- Sabine's journey -----------------------------------------------------------------------------


def test_sabines_journey_through_every_form(client, session, logged_in_owner):
    owner, org = logged_in_owner
    base = _base(org)

    board = _get(client, f"{base}/")
    assert board.status_code == 200
    assert "Ersten Engpass benennen" in _text(board)

    form = _get(client, f"{base}/new")
    assert form.status_code == 200
    page = _text(form)
    # The category's suggestions are on the page, server-side.
    assert "Angebotsdauer in Tagen" in page and "Angebotsvorlage mit Kalkulationsblatt" in page

    created = _post(
        client,
        f"{base}/new",
        {
            "title": "Angebote dauern 9 Tage",
            "category": "quoting",
            "why": "Wir verlieren Aufträge",
            "owner_id": owner.id,
            "sponsor_id": owner.id,
        },
    )
    assert created.status_code == 302
    cycle_id = int(re.search(r"/cycles/(\d+)/", created.location).group(1))
    show = f"{base}/{cycle_id}/"

    # "Wir kaufen ein KI-Tool": the solution before the status quo is refused kindly, nothing saved.
    refused = _post(client, f"{base}/{cycle_id}/solution", {**SOLUTION, "solution_what": "Wir kaufen ein KI-Tool"})
    assert refused.status_code == 422
    text = _text(refused)
    assert "Tragen Sie ein, wie viele Stunden pro Woche der Prozess heute kostet." in text
    assert "Wir kaufen ein KI-Tool" in text  # kept
    cycle = _cycle(session, org, cycle_id)
    assert cycle.stage == Stage.bottleneck and cycle.solution_what is None

    # The baseline form suggests the category's KPI.
    baseline_form = _text(_get(client, f"{base}/{cycle_id}/baseline"))
    assert 'value="Angebotsdauer in Tagen"' in baseline_form

    saved = _post(client, f"{base}/{cycle_id}/baseline", BASELINE_FORM)
    assert saved.status_code == 302, _text(saved)
    assert saved.location.endswith("#baseline")
    cycle = _cycle(session, org, cycle_id)
    assert cycle.stage == Stage.baseline and cycle.hours_per_week == Decimal("14")
    assert [(s.name, s.minutes) for s in cycle.steps] == [
        ("Anfrage prüfen", 30),
        ("Preise kalkulieren", 120),
        ("Angebot schreiben", 45),
    ]

    assert _post(client, f"{base}/{cycle_id}/solution", SOLUTION).status_code == 302

    # The prototype's target defaults to four weeks after the start.
    prototype_form = _text(_get(client, f"{base}/{cycle_id}/prototype"))
    # Four weeks from today where the organization works (Berlin), which is not the server's day after 23:00 UTC.
    berlin_today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    assert f'value="{berlin_today + timedelta(weeks=4):%Y-%m-%d}"' in prototype_form
    start = date.today() - timedelta(days=21)
    assert _post(client, f"{base}/{cycle_id}/prototype", {"prototype_start": start.isoformat()}).status_code == 302
    cycle = _cycle(session, org, cycle_id)
    assert cycle.stage == Stage.prototype and cycle.prototype_target == start + timedelta(weeks=4)

    measured = _post(
        client,
        f"{base}/{cycle_id}/measurements/new",
        {"measured_on": date.today().isoformat(), "kpi_value": "4", "hours_per_week": "6", "note": "nach 3 Wochen"},
    )
    assert measured.status_code == 302
    cycle = _cycle(session, org, cycle_id)
    assert cycle.stage == Stage.result

    page = _text(_get(client, show))
    assert "27.040 €" in page
    assert "8 Std./Woche × 65 € × 52 Arbeitswochen = 27.040 €" in page
    assert "6 Wochen" in page
    assert "3.120 € ÷ (27.040 € ÷ 52 Arbeitswochen) = 6 Wochen" in page
    assert "−55,6 %" in page
    assert "<svg" in page and 'class="chart__point"' in page
    assert "195" in page  # minutes summed over the process

    decided = _post(
        client,
        f"{base}/{cycle_id}/decision",
        {
            "decision": "scale",
            "decision_reason": "Partner überzeugt",
            "lessons_worked": "Vorlage",
            "lessons_failed": "Export",
            "lessons_differently": "Früher messen",
        },
    )
    assert decided.status_code == 302
    cycle = _cycle(session, org, cycle_id)
    assert cycle.stage == Stage.decided and cycle.decision == Decision.scale

    next_form = _get(client, f"{base}/{cycle_id}/next")
    assert next_form.status_code == 200
    assert "Angebote dauern 9 Tage" in _text(next_form)
    following = _post(
        client,
        f"{base}/{cycle_id}/next",
        {
            "title": "Zu wenige Leads",
            "category": "leads",
            "why": "Pipeline leer",
            "owner_id": owner.id,
            "sponsor_id": owner.id,
        },
    )
    assert following.status_code == 302
    next_id = int(re.search(r"/cycles/(\d+)/", following.location).group(1))
    assert _cycle(session, org, next_id).previous_cycle_id == cycle_id

    old_page, new_page = _text(_get(client, show)), _text(_get(client, f"{base}/{next_id}/"))
    assert f'href="{base}/{next_id}/"' in old_page and "Zu wenige Leads" in old_page
    assert f'href="{base}/{cycle_id}/"' in new_page and "Angebote dauern 9 Tage" in new_page


# --- roles ----------------------------------------------------------------------------------------


def _pages(base: str, cycle_id: int, measurement_id: int) -> list[str]:
    return [
        f"{base}/",
        f"{base}/table",
        f"{base}/templates",
        f"{base}/{cycle_id}/",
    ]


def _forms(base: str, cycle_id: int, measurement_id: int) -> list[str]:
    return [
        f"{base}/new",
        f"{base}/{cycle_id}/bottleneck",
        f"{base}/{cycle_id}/baseline",
        f"{base}/{cycle_id}/solution",
        f"{base}/{cycle_id}/prototype",
        f"{base}/{cycle_id}/measurements/new",
        f"{base}/{cycle_id}/measurements/{measurement_id}/edit",
        f"{base}/{cycle_id}/decision",
        f"{base}/{cycle_id}/next",
    ]


def _posts(base: str, cycle_id: int, measurement_id: int) -> list[str]:
    return [
        *_forms(base, cycle_id, measurement_id),
        f"{base}/{cycle_id}/measurements/{measurement_id}/delete",
        f"{base}/{cycle_id}/stage",
        f"{base}/{cycle_id}/delete",
        f"{base}/templates",
    ]


@pytest.fixture
def team(session, make_user, make_org):
    owner = make_user(name="Sabine Müller")
    users = {role: make_user(name=f"{role.value} user") for role in (Role.admin, Role.member, Role.viewer)}
    org = make_org("Müller Metallbau GmbH", owner=owner, members={user: role for role, user in users.items()})
    users[Role.owner] = owner
    cycle_id = _make_cycle(session, org, owner, stage=Stage.decided, measurements=2)
    with tenancy.tenant_context(session, org.id):
        measurement_id = session.scalars(select(Measurement.id).where(Measurement.cycle_id == cycle_id)).first()
    return org, users, cycle_id, measurement_id


@pytest.mark.parametrize("role", list(Role))
def test_every_page_renders_for_every_role_and_forms_for_members(client, login, team, role):
    org, users, cycle_id, measurement_id = team
    login(users[role])
    base = _base(org)
    for url in _pages(base, cycle_id, measurement_id):
        response = _get(client, url)
        assert response.status_code == 200, f"{role} GET {url}: {response.status_code}"
    for url in _forms(base, cycle_id, measurement_id):
        response = _get(client, url)
        expected = 403 if role == Role.viewer else 200
        assert response.status_code == expected, f"{role} GET {url}: {response.status_code}"
    delete_page = _get(client, f"{base}/{cycle_id}/delete")
    assert delete_page.status_code == (200 if role in (Role.owner, Role.admin) else 403)

    show = _text(_get(client, f"{base}/{cycle_id}/"))
    # Viewers read everything but see no buttons that would only answer 403; the decision is the owners'
    # here, the cycle having no sponsor.
    assert (f"{base}/{cycle_id}/decision" in show) == (role == Role.owner)
    assert (f'action="{base}/{cycle_id}/stage"' in show) == (role != Role.viewer)
    assert (f"{base}/{cycle_id}/delete" in show) == (role in (Role.owner, Role.admin))
    board = _text(_get(client, f"{base}/"))
    assert (f'href="{base}/new"' in board) == (role != Role.viewer)


def test_viewers_cannot_post_anything(client, session, login, team):
    org, users, cycle_id, measurement_id = team
    login(users[Role.viewer])
    for url in _posts(_base(org), cycle_id, measurement_id):
        response = _post(client, url, {"title": "Übernahme", "confirm": "y", "target": "baseline"})
        assert response.status_code == 403, f"POST {url}: {response.status_code}"
    cycle = _cycle(session, org, cycle_id)
    assert cycle.title == "Angebote dauern 9 Tage" and len(cycle.measurements) == 2


def test_members_cannot_delete_cycles_or_templates_admins_can(client, session, login, team):
    org, users, cycle_id, _ = team
    base = _base(org)
    with tenancy.tenant_context(session, org.id):
        template = CycleTemplate(
            category=Category.quoting,
            name="Metallbau",
            kpi_name="Angebote pro Woche",
            kpi_unit="Angebote",
            kpi_direction=KpiDirection.higher,
            solutions=[],
        )
        session.add(template)
        session.commit()
        template_id = template.id

    login(users[Role.member])
    assert _post(client, f"{base}/{cycle_id}/delete", {"confirm": "y"}).status_code == 403
    assert _post(client, f"{base}/templates/{template_id}/delete", {}).status_code == 403
    assert _post(client, f"{base}/templates", {"name": "x"}).status_code == 403
    client.post("/logout")

    login(users[Role.admin])
    unconfirmed = _post(client, f"{base}/{cycle_id}/delete", {})
    assert unconfirmed.status_code == 422
    assert "Bitte bestätigen Sie" in _text(unconfirmed)
    assert _cycle(session, org, cycle_id) is not None
    deleted = _post(client, f"{base}/{cycle_id}/delete", {"confirm": "y"})
    assert deleted.status_code == 302 and deleted.location.endswith(f"{base}/")
    session.expire_all()
    with tenancy.tenant_context(session, org.id):
        assert session.get(Cycle, cycle_id) is None
        assert session.scalar(select(func.count(Measurement.id))) == 0
    assert _get(client, f"{base}/{cycle_id}/").status_code == 404
    assert _post(client, f"{base}/templates/{template_id}/delete", {}).status_code == 302
    with tenancy.tenant_context(session, org.id):
        assert session.get(CycleTemplate, template_id) is None


# --- tenants and forged ids -----------------------------------------------------------------------


def test_measurements_of_another_cycle_or_organization_answer_404(client, session, make_user, make_org, login):
    owner = make_user()
    org = make_org("Eigene GmbH", owner=owner)
    stranger = make_user()
    other_org = make_org("Fremde AG", owner=stranger)
    mine = _make_cycle(session, org, owner, stage=Stage.result, measurements=1)
    sibling = _make_cycle(session, org, owner, title="Zweiter", stage=Stage.result, measurements=1)
    theirs = _make_cycle(session, other_org, stranger, title="Geheim", stage=Stage.result, measurements=1)
    with tenancy.tenant_context(session, org.id):
        sibling_m = session.scalars(select(Measurement.id).where(Measurement.cycle_id == sibling)).one()
    with tenancy.tenant_context(session, other_org.id):
        their_m = session.scalars(select(Measurement.id)).one()
    login(owner)
    base = _base(org)
    for measurement_id in (sibling_m, their_m, 999_999):
        for method, url in (
            ("GET", f"{base}/{mine}/measurements/{measurement_id}/edit"),
            ("POST", f"{base}/{mine}/measurements/{measurement_id}/edit"),
            ("POST", f"{base}/{mine}/measurements/{measurement_id}/delete"),
        ):
            refresh()
            response = client.open(url, method=method, data={"measured_on": "2026-11-20", "kpi_value": "1"})
            assert response.status_code == 404, f"{method} {url}"
    # Another organization's cycle through our slug: 404, and nothing of it shows.
    response = _get(client, f"{base}/{theirs}/")
    assert response.status_code == 404 and "Geheim" not in _text(response)
    assert (
        _post(
            client,
            f"{base}/{theirs}/decision",
            {
                "decision": "drop",
                "decision_reason": "x",
                "lessons_worked": "Vorlage",
                "lessons_failed": "Export",
                "lessons_differently": "Früher messen",
            },
        ).status_code
        == 404
    )
    with tenancy.tenant_context(session, other_org.id):
        session.expire_all()
        assert session.scalar(select(func.count(Measurement.id))) == 1
        assert session.get(Cycle, theirs).decision is None


# --- bad input on every form ----------------------------------------------------------------------

TEN_K = "x" * 10_000
SCRIPT = "<script>alert(1)</script>"
E20 = "100000000000000000000"
VALID = {
    "new": {"title": "Angebote dauern 9 Tage", "category": "quoting", "why": "Größter Hebel"},
    "bottleneck": {"title": "Angebote dauern 9 Tage", "category": "quoting", "why": "Größter Hebel"},
    "baseline": BASELINE_FORM,
    "solution": SOLUTION,
    "prototype": {"prototype_start": "2026-11-02", "prototype_target": "2026-11-30"},
    "measurement": {
        "measured_on": "2026-11-20",
        "kpi_value": "4",
        "hours_per_week": "6",
        "cost_per_week": "",
        "note": "",
    },
    "decision": {
        "decision": "scale",
        "decision_reason": "Wirkt",
        "lessons_worked": "Vorlage",
        "lessons_failed": "Export",
        "lessons_differently": "Früher messen",
    },
    "template": {
        "category": "quoting",
        "name": "Metallbau",
        "kpi_name": "Angebote pro Woche",
        "kpi_unit": "Angebote",
        "kpi_direction": "higher",
        "solutions": "Vorlage\nKalkulationsblatt",
    },
}
# The stage each form's cycle is in, and the URL below the cycle.
FORM_AT = {
    "new": (Stage.decided, None),
    "bottleneck": (Stage.bottleneck, "bottleneck"),
    "baseline": (Stage.bottleneck, "baseline"),
    "solution": (Stage.baseline, "solution"),
    "prototype": (Stage.solution, "prototype"),
    "measurement": (Stage.prototype, "measurements/new"),
    "decision": (Stage.result, "decision"),
    "template": (Stage.bottleneck, None),
}
NUMBER = "Bitte geben Sie eine Zahl ein, z. B. 12,5."
HOURS_RANGE = "Diese Zahl ist zu groß (höchstens 99.999.999,99)."
MONEY_RANGE = "Diese Zahl ist zu groß (höchstens 999.999.999.999,99)."
KPI_RANGE = "Diese Zahl ist zu groß (höchstens 99.999.999.999.999,9999)."
KPI_LOW = "Diese Zahl ist zu klein (mindestens −99.999.999.999.999,9999)."
NEGATIVE = "Bitte geben Sie 0 oder mehr ein."
CHOOSE = "Bitte wählen Sie eine der Möglichkeiten."
CHOICE_FIELDS = {"category", "owner_id", "sponsor_id", "kpi_direction", "solution_type", "decision"}
NOT_A_SPONSOR = "Bitte wählen Sie als Sponsor einen Inhaber oder Administrator dieser Organisation."
CHOOSE_A_SPONSOR = "Bitte wählen Sie einen Sponsor: einen Inhaber oder Administrator, der am Ende entscheidet."

BAD_INPUT = [
    ("new", {"title": ""}, "Bitte benennen Sie den Engpass."),
    ("new", {"title": "x" * 201}, "Höchstens 200 Zeichen."),
    ("new", {"title": SCRIPT, "category": ""}, "Bitte wählen Sie eine Kategorie."),
    ("new", {"category": "bitcoin"}, CHOOSE),
    ("new", {"why": TEN_K}, "Höchstens 5000 Zeichen."),
    ("new", {"owner_id": "999999"}, "Bitte wählen Sie ein Mitglied dieser Organisation."),
    ("new", {"owner_id": "abc"}, "Bitte wählen Sie ein Mitglied dieser Organisation."),
    ("new", {"sponsor_id": "999999"}, NOT_A_SPONSOR),
    ("new", {"sponsor_id": ""}, CHOOSE_A_SPONSOR),
    ("bottleneck", {"sponsor_id": "999999"}, NOT_A_SPONSOR),
    ("bottleneck", {"title": "   "}, "Bitte benennen Sie den Engpass."),
    ("bottleneck", {"why": TEN_K}, "Höchstens 5000 Zeichen."),
    ("bottleneck", {"category": "<b>x</b>"}, CHOOSE),
    ("baseline", {"hours_per_week": "-5"}, NEGATIVE),
    ("baseline", {"hours_per_week": "viel"}, NUMBER),
    ("baseline", {"hours_per_week": "1e20"}, NUMBER),
    ("baseline", {"hours_per_week": "NaN"}, NUMBER),
    ("baseline", {"hours_per_week": E20}, HOURS_RANGE),
    ("baseline", {"hours_per_week": ""}, "Bitte geben Sie ein, wie viele Stunden pro Woche der Prozess heute kostet."),
    ("baseline", {"direct_cost_per_week": "10000000000000"}, MONEY_RANGE),
    ("baseline", {"direct_cost_per_week": "-0,01"}, NEGATIVE),
    ("baseline", {"kpi_baseline": E20}, KPI_RANGE),
    ("baseline", {"kpi_baseline": ""}, "Bitte geben Sie den heutigen Wert der Kennzahl ein."),
    ("baseline", {"kpi_target": "-" + E20}, KPI_LOW),
    ("baseline", {"kpi_direction": "sideways"}, "Bitte wählen Sie, ob höher oder niedriger besser ist."),
    ("baseline", {"kpi_direction": ""}, "Bitte wählen Sie, ob höher oder niedriger besser ist."),
    ("baseline", {"kpi_name": "x" * 121}, "Höchstens 120 Zeichen."),
    ("baseline", {"kpi_name": SCRIPT, "kpi_unit": ""}, "Bitte geben Sie die Einheit der Kennzahl ein."),
    ("baseline", {"kpi_unit": "x" * 41}, "Höchstens 40 Zeichen."),
    ("baseline", {"steps-0-name": "x" * 201}, "Höchstens 200 Zeichen."),
    ("baseline", {"steps-0-role": "x" * 121}, "Höchstens 120 Zeichen."),
    ("baseline", {"steps-1-minutes": "-3"}, NEGATIVE),
    ("baseline", {"steps-1-minutes": "100001"}, "Diese Zahl ist zu groß (höchstens 100.000)."),
    ("baseline", {"steps-1-minutes": "zehn"}, "Bitte geben Sie eine ganze Zahl ein, z. B. 30."),
    ("baseline", {"steps-1-minutes": "30,5"}, "Bitte geben Sie eine ganze Zahl ein, z. B. 30."),
    ("baseline", {"steps-2-name": ""}, "Bitte benennen Sie den Schritt oder leeren Sie die Zeile."),
    ("solution", {"solution_what": ""}, "Bitte beschreiben Sie die Lösung."),
    ("solution", {"solution_what": TEN_K}, "Höchstens 5000 Zeichen."),
    ("solution", {"solution_type": "blockchain"}, CHOOSE),
    ("solution", {"solution_type": ""}, "Bitte wählen Sie die Art der Lösung."),
    ("solution", {"effort_days": "-1"}, NEGATIVE),
    ("solution", {"effort_days": "sechs"}, NUMBER),
    ("solution", {"one_off_cost": "1e3"}, NUMBER),
    ("solution", {"running_cost_per_month": E20}, MONEY_RANGE),
    ("solution", {"expected_effect": TEN_K}, "Höchstens 5000 Zeichen."),
    ("prototype", {"prototype_start": ""}, "Bitte geben Sie das Startdatum ein."),
    ("prototype", {"prototype_start": "morgen"}, "Bitte geben Sie ein Datum ein, z. B. 25.11.2026."),
    ("prototype", {"prototype_start": "0001-01-01"}, "Bitte geben Sie ein Datum zwischen 1990 und 2100 ein."),
    ("prototype", {"prototype_target": "2026-10-01"}, "Der Zieltermin kann nicht vor dem Start liegen."),
    (
        "measurement",
        {"measured_on": "2026-10-01"},
        "Ein Ergebnis kann erst ab dem Start des Prototyps gemessen werden.",
    ),
    ("measurement", {"measured_on": ""}, "Bitte geben Sie das Datum der Messung ein."),
    ("measurement", {"kpi_value": ""}, "Bitte geben Sie den gemessenen Wert ein."),
    ("measurement", {"kpi_value": "vier"}, NUMBER),
    ("measurement", {"kpi_value": E20}, KPI_RANGE),
    ("measurement", {"hours_per_week": "-6"}, NEGATIVE),
    ("measurement", {"cost_per_week": E20}, MONEY_RANGE),
    ("measurement", {"note": TEN_K}, "Höchstens 2000 Zeichen."),
    ("measurement", {"note": SCRIPT, "kpi_value": ""}, "Bitte geben Sie den gemessenen Wert ein."),
    ("decision", {"decision": ""}, "Bitte wählen Sie: skalieren, iterieren oder verwerfen."),
    ("decision", {"decision": "maybe"}, "Bitte wählen Sie: skalieren, iterieren oder verwerfen."),
    ("decision", {"decision_reason": ""}, "Bitte halten Sie fest, warum Sie so entschieden haben."),
    ("decision", {"decision_reason": TEN_K}, "Höchstens 5000 Zeichen."),
    ("template", {"name": ""}, "Bitte benennen Sie die Vorlage."),
    ("template", {"category": "crypto"}, CHOOSE),
    ("template", {"kpi_direction": "up"}, "Bitte wählen Sie, ob höher oder niedriger besser ist."),
    ("template", {"solutions": "\n".join(f"Lösung {i}" for i in range(13))}, "Höchstens 12 Lösungen."),
    ("template", {"solutions": "x" * 201}, "Höchstens 200 Zeichen pro Zeile."),
    ("template", {"kpi_name": SCRIPT, "kpi_unit": "x" * 41}, "Höchstens 40 Zeichen."),
]


def _state(session, org) -> tuple:
    """Everything a refused form must leave untouched."""
    from engpass.audit.models import AuditEvent

    session.expire_all()
    with tenancy.tenant_context(session, org.id):
        cycles = session.scalars(select(Cycle).order_by(Cycle.id)).all()
        return (
            [
                (
                    c.title,
                    c.category,
                    c.why,
                    c.stage,
                    c.hours_per_week,
                    c.kpi_name,
                    c.kpi_baseline,
                    c.solution_what,
                    c.prototype_start,
                    c.prototype_target,
                    c.decision,
                )
                for c in cycles
            ],
            session.scalar(select(func.count(Measurement.id))),
            session.scalar(select(func.count(ProcessStep.id))),
            session.scalar(select(func.count(CycleTemplate.id))),
            session.scalar(select(func.count(AuditEvent.id))),
        )


@pytest.mark.parametrize(
    ("form", "bad", "message"), BAD_INPUT, ids=[f"{f}-{'-'.join(b)}-{i}" for i, (f, b, _) in enumerate(BAD_INPUT)]
)
def test_bad_input_gets_a_message_keeps_the_input_and_saves_nothing(
    client, session, logged_in_owner, form, bad, message
):
    owner, org = logged_in_owner
    stage, path = FORM_AT[form]
    cycle_id = _make_cycle(
        session, org, owner, stage=stage, measurements=1 if stage in (Stage.result, Stage.decided) else 0
    )
    base = _base(org)
    url = {"new": f"{base}/new", "template": f"{base}/templates"}.get(form) or f"{base}/{cycle_id}/{path}"
    data = {**VALID[form], "owner_id": str(owner.id), "sponsor_id": str(owner.id), **bad}
    before = _state(session, org)

    response = _post(client, url, data)

    assert response.status_code == 422, response.status_code
    text = _text(response)
    assert message in text
    assert 'class="field__error"' in text
    for name, value in bad.items():
        if name in CHOICE_FIELDS:
            continue  # an unknown option cannot be shown as chosen; the valid options stay
        if value == SCRIPT:
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        elif value:
            assert str(value).split("\n")[0] in text, "the input was not kept"
    assert SCRIPT not in text
    assert _state(session, org) == before


def test_hostile_row_indexes_and_stage_names_never_crash(client, session, logged_in_owner):
    owner, org = logged_in_owner
    cycle_id = _make_cycle(session, org, owner)
    base = _base(org)
    # "²".isdigit() is true but int("²") fails: such keys are dropped before WTForms sees them.
    response = _post(
        client, f"{base}/{cycle_id}/baseline", {**BASELINE_FORM, "steps-²-name": "x", "steps-99999999999-name": "y"}
    )
    assert response.status_code == 302
    assert len(_cycle(session, org, cycle_id).steps) == 3
    assert _post(client, f"{base}/{cycle_id}/stage", {"target": "nirvana"}).status_code == 422
    assert _post(client, f"{base}/{cycle_id}/baseline", {**BASELINE_FORM, "rows": "up-99999"}).status_code == 200
    assert _get(client, f"{base}/table?page=99999999999999&owner=%C2%B2&sort=drop&dir=x&stage=zzz").status_code == 200


# --- query counts ---------------------------------------------------------------------------------


def _bulk_cycles(session, org, owner, count: int, measurements_each: int = 1) -> list[int]:
    """Many cycles in all stages, written directly: the services would make the test slow."""
    stages = list(Stage)
    ids = []
    with tenancy.tenant_context(session, org.id):
        for i in range(count):
            stage = stages[i % len(stages)]
            cycle = Cycle(
                title=f"Engpass {i}",
                category=list(Category)[i % len(Category)],
                why="",
                stage=stage,
                owner_id=owner.id,
                focus_warning=i % 4 == 0,
                hours_per_week=Decimal(10),
                kpi_name="KPI",
                kpi_unit="Tage",
                kpi_direction=KpiDirection.lower,
                kpi_baseline=Decimal(9),
                prototype_start=date(2026, 1, 5) if stage in (Stage.prototype, Stage.result, Stage.decided) else None,
                prototype_target=date(2026, 3, 30) if stage == Stage.prototype else None,
                decision=Decision.scale if stage == Stage.decided else None,
            )
            session.add(cycle)
            session.flush()
            if stage in (Stage.result, Stage.decided):
                for j in range(measurements_each):
                    session.add(
                        Measurement(cycle_id=cycle.id, measured_on=date(2026, 2, 1) + timedelta(days=j), kpi_value=5)
                    )
            ids.append(cycle.id)
        session.commit()
    return ids


def _count(client, count_queries, url: str) -> int:
    _get(client, url)  # warm up: the first request of a test loads the user's session, the catalog …
    refresh()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


def test_board_and_table_query_counts_do_not_grow_with_the_cycles(client, session, logged_in_owner, count_queries):
    owner, org = logged_in_owner
    base = _base(org)
    _bulk_cycles(session, org, owner, 3)
    small = {url: _count(client, count_queries, url) for url in (f"{base}/", f"{base}/table")}
    _bulk_cycles(session, org, owner, 27)
    large = {url: _count(client, count_queries, url) for url in (f"{base}/", f"{base}/table")}
    assert large == small
    # Session user, membership, switcher, cycles with owners, measurement counts (+ members for the filter).
    assert small[f"{base}/"] <= 6
    assert small[f"{base}/table"] <= 7


def _indirect_items(session, org, cycle_id: int, count: int, start: int = 0) -> None:
    """Indirect cost items of every kind, written directly."""
    kinds = list(IndirectKind)
    with tenancy.tenant_context(session, org.id):
        for i in range(start, start + count):
            kind = kinds[i % len(kinds)]
            session.add(
                IndirectCostItem(
                    cycle_id=cycle_id,
                    position=i + 1,
                    label=f"Posten {i}",
                    kind=kind,
                    quantity=None if kind == IndirectKind.other else Decimal(2),
                    unit_value=None if kind == IndirectKind.waiting else Decimal(50),
                    people_affected=3 if kind == IndirectKind.waiting else None,
                    period=list(Period)[i % 3],
                    source=list(CostSource)[i % 3],
                )
            )
        session.commit()


def test_cycle_page_query_count_does_not_grow_with_measurements_indirect_costs_or_the_chain(
    client, session, logged_in_owner, count_queries
):
    owner, org = logged_in_owner
    base = _base(org)
    cycle_id = _make_cycle(session, org, owner, stage=Stage.result, measurements=2)
    _indirect_items(session, org, cycle_id, 1)
    small = _count(client, count_queries, f"{base}/{cycle_id}/")
    _indirect_items(session, org, cycle_id, 19, start=1)
    with tenancy.tenant_context(session, org.id):
        for i in range(38):
            session.add(Measurement(cycle_id=cycle_id, measured_on=date(2026, 12, 1) + timedelta(days=i), kpi_value=i))
        session.commit()
    _bulk_cycles(session, org, owner, 30)
    large = _count(client, count_queries, f"{base}/{cycle_id}/")
    assert large == small
    page = _text(_get(client, f"{base}/{cycle_id}/"))
    assert page.count('class="costitem"') == 20
    wide, compact = page.split('class="chart__svg chart__svg--')[1:3]
    assert wide.count('class="chart__point"') == 40 and compact.count('class="chart__point"') == 40


# --- focus, stages, table, rows, templates --------------------------------------------------------


def test_a_second_open_cycle_needs_confirmation_and_shows_a_focus_warning(client, session, logged_in_owner):
    owner, org = logged_in_owner
    base = _base(org)
    first = _make_cycle(session, org, owner, title="Angebote dauern 9 Tage")
    form = _text(_get(client, f"{base}/new"))
    assert "Ein Engpass nach dem anderen" in form and "Angebote dauern 9 Tage" in form

    data = {
        "title": "Zu wenige Leads",
        "category": "leads",
        "why": "Pipeline",
        "owner_id": owner.id,
        "sponsor_id": owner.id,
    }
    refused = _post(client, f"{base}/new", data)
    assert refused.status_code == 422
    text = _text(refused)
    assert "Bestätigen Sie, dass Sie an zwei Engpässen gleichzeitig arbeiten möchten." in text
    assert 'value="Zu wenige Leads"' in text and "Pipeline" in text
    assert len(_state(session, org)[0]) == 1

    confirmed = _post(client, f"{base}/new", {**data, "confirm_focus": "y"})
    assert confirmed.status_code == 302
    second = int(re.search(r"/cycles/(\d+)/", confirmed.location).group(1))
    assert _cycle(session, org, second).focus_warning and not _cycle(session, org, first).focus_warning

    board = _text(_get(client, f"{base}/"))
    assert "2 Zyklen sind gleichzeitig offen." in board
    assert "Fokus: paralleler Zyklus" in board
    assert "Fokus-Warnung" in _text(_get(client, f"{base}/{second}/"))


def test_stage_moves_back_always_and_forward_only_by_the_rules(client, session, logged_in_owner):
    owner, org = logged_in_owner
    base = _base(org)
    cycle_id = _make_cycle(session, org, owner, stage=Stage.solution)
    back = _post(client, f"{base}/{cycle_id}/stage", {"target": "bottleneck"})
    assert back.status_code == 302
    assert _cycle(session, org, cycle_id).stage == Stage.bottleneck
    assert "Zurück zu Engpass." in _text(_get(client, back.location))
    assert _post(client, f"{base}/{cycle_id}/stage", {"target": "solution"}).status_code == 302
    refused = _post(client, f"{base}/{cycle_id}/stage", {"target": "result"})
    assert refused.status_code == 422
    assert "Starten Sie den Prototyp" in _text(refused)
    assert _cycle(session, org, cycle_id).stage == Stage.solution


def test_measurements_are_edited_and_deleted_but_a_decision_keeps_one(client, session, logged_in_owner):
    owner, org = logged_in_owner
    base = _base(org)
    cycle_id = _make_cycle(session, org, owner, stage=Stage.decided, measurements=1)
    measurement_id = _cycle(session, org, cycle_id).measurements[0].id
    edit = f"{base}/{cycle_id}/measurements/{measurement_id}/edit"
    form = _text(_get(client, edit))
    assert 'value="2026-11-02"' in form and 'value="9"' in form
    saved = _post(client, edit, {"measured_on": "2026-11-09", "kpi_value": "3,5", "hours_per_week": "5"})
    assert saved.status_code == 302 and saved.location.endswith("#result")
    measurement = _cycle(session, org, cycle_id).measurements[0]
    assert (measurement.measured_on, measurement.kpi_value) == (date(2026, 11, 9), Decimal("3.5"))

    refused = _post(client, f"{base}/{cycle_id}/measurements/{measurement_id}/delete", {})
    assert refused.status_code == 422
    assert "Ein entschiedener Zyklus behält mindestens eine Messung" in _text(refused)
    assert len(_cycle(session, org, cycle_id).measurements) == 1

    assert _post(client, f"{base}/{cycle_id}/stage", {"target": "result"}).status_code == 302
    deleted = _post(client, f"{base}/{cycle_id}/measurements/{measurement_id}/delete", {})
    assert deleted.status_code == 302
    assert _cycle(session, org, cycle_id).measurements == []


def test_table_filters_sorts_searches_and_pages(client, session, logged_in_owner, make_user):
    owner, org = logged_in_owner
    base = _base(org)
    _bulk_cycles(session, org, owner, 30)
    _make_cycle(session, org, owner, title="Reklamationen 100% verzögert", category=Category.support)

    first = _text(_get(client, f"{base}/table"))
    assert "31 Zyklen" in first and "Seite 1 von 2" in first
    assert first.count('class="cycletable__title"') == 25
    second = _text(_get(client, f"{base}/table?page=2"))
    assert second.count('class="cycletable__title"') == 6

    by_stage = _text(_get(client, f"{base}/table?stage=decided"))
    assert "5 Zyklen" in by_stage
    assert _text(_get(client, f"{base}/table?status=open")).count("Entschieden ·") == 0
    assert "6 Zyklen" in _text(_get(client, f"{base}/table?category=support"))
    found = _text(_get(client, f"{base}/table?q=100%25"))
    assert "1 Zyklus" in found and "Reklamationen" in found  # "%" is searched literally
    assert "0 Zyklen" in _text(_get(client, f"{base}/table?owner=999999"))

    by_title = _text(_get(client, f"{base}/table?sort=title&dir=asc"))
    titles = re.findall(r'<td class="cycletable__title">\s*<a href="[^"]+">([^<]+)</a>', by_title)
    assert titles == sorted(titles, key=str.lower)
    by_stage_sort = _text(_get(client, f"{base}/table?sort=stage&dir=asc"))
    assert by_stage_sort.index("Engpass 0<") < by_stage_sort.index("Engpass 1<")


def test_process_rows_are_added_and_reordered_without_javascript(client, session, logged_in_owner):
    owner, org = logged_in_owner
    base = _base(org)
    cycle_id = _make_cycle(session, org, owner)
    url = f"{base}/{cycle_id}/baseline"
    more = _post(client, url, {**BASELINE_FORM, "rows": "add"})
    assert more.status_code == 200
    text = _text(more)
    assert 'name="steps-6-name"' in text and 'value="Preise kalkulieren"' in text
    assert _cycle(session, org, cycle_id).stage == Stage.bottleneck  # nothing saved yet

    moved = _text(_post(client, url, {**BASELINE_FORM, "rows": "up-1"}))
    assert moved.index('value="Preise kalkulieren"') < moved.index('value="Anfrage prüfen"')
    assert re.search(r'name="steps-0-name"[^>]*value="Preise kalkulieren"', moved)

    saved = _post(client, url, {**BASELINE_FORM, "steps-1-remove": "y", "steps-0-minutes": "3"})
    assert saved.status_code == 302
    steps = _cycle(session, org, cycle_id).steps
    assert [(s.position, s.name, s.minutes) for s in steps] == [(1, "Anfrage prüfen", 3), (2, "Angebot schreiben", 45)]


def test_organization_templates_are_listed_added_and_suggested(client, session, logged_in_owner):
    owner, org = logged_in_owner
    base = _base(org)
    page = _text(_get(client, f"{base}/templates"))
    assert "Angebotsdauer in Tagen" in page and "Noch keine eigenen Vorlagen." in page
    added = _post(client, f"{base}/templates", VALID["template"])
    assert added.status_code == 302
    page = _text(_get(client, f"{base}/templates"))
    assert "Metallbau" in page and "Kalkulationsblatt" in page
    form = _text(_get(client, f"{base}/new"))
    assert "Angebote pro Woche" in form and "Ihre Vorlage" in form
    # The organization's own template comes first when the status quo is quantified.
    cycle_id = _make_cycle(session, org, owner)
    baseline = _text(_get(client, f"{base}/{cycle_id}/baseline"))
    assert 'value="Angebote pro Woche"' in baseline
    assert re.search(r'value="higher"[^>]*checked|checked[^>]*value="higher"', baseline)


def test_pages_speak_english_when_the_user_chose_it(client, session, logged_in_owner):
    owner, org = logged_in_owner
    base = _base(org)
    cycle_id = _make_cycle(session, org, owner, stage=Stage.result, measurements=1)
    client.post("/language", data={"locale": "en", "next": f"{base}/"})
    page = _text(_get(client, f"{base}/{cycle_id}/"))
    assert "Status quo" in page and "Savings per year" in page and "Ist-Zustand" not in page
    assert "Nov 2, 2026" in page


def test_order_of_the_method_is_kept_for_measurements_and_the_next_bottleneck(client, session, logged_in_owner):
    owner, org = logged_in_owner
    base = _base(org)
    cycle_id = _make_cycle(session, org, owner, stage=Stage.solution)
    form = _text(_get(client, f"{base}/{cycle_id}/measurements/new"))
    assert "Ergebnisse werden gemessen, sobald der Prototyp läuft." in form
    refused = _post(client, f"{base}/{cycle_id}/measurements/new", VALID["measurement"])
    assert refused.status_code == 422
    assert "Ergebnisse werden gemessen, sobald der Prototyp gestartet ist." in _text(refused)
    assert _cycle(session, org, cycle_id).measurements == []

    # "Nächster Engpass" before a decision: the page sends back to the decision, a post is refused.
    early = _get(client, f"{base}/{cycle_id}/next")
    assert early.status_code == 302 and early.location.endswith("#decision")
    data = {
        "title": "Zu wenige Leads",
        "category": "leads",
        "why": "",
        "owner_id": owner.id,
        "sponsor_id": owner.id,
        "confirm_focus": "y",
    }
    refused = _post(client, f"{base}/{cycle_id}/next", data)
    assert refused.status_code == 422
    assert "Entscheiden Sie diesen Zyklus, bevor Sie den nächsten Engpass wählen." in _text(refused)
    assert 'value="Zu wenige Leads"' in _text(refused)
    assert len(_state(session, org)[0]) == 1


def test_money_uses_the_organizations_currency(client, session, logged_in_owner):
    owner, org = logged_in_owner
    org.currency = "CHF"
    session.add(org)
    session.commit()
    cycle_id = _make_cycle(session, org, owner, stage=Stage.result, measurements=1)
    page = _text(_get(client, f"{_base(org)}/{cycle_id}/"))
    assert "3.120 CHF" in page and "€" not in page


def test_posts_without_a_csrf_token_are_refused_and_save_nothing(app, client, session, logged_in_owner):
    owner, org = logged_in_owner
    base = _base(org)
    cycle_id = _make_cycle(session, org, owner, stage=Stage.result, measurements=1)
    measurement_id = _cycle(session, org, cycle_id).measurements[0].id
    before = _state(session, org)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        # The app-wide CSRF protection answers before any view: a clean 400 that says what to do.
        baseline = _post(client, f"{base}/{cycle_id}/baseline", BASELINE_FORM)
        assert baseline.status_code == 400
        assert "Bitte gehen Sie zurück" in _text(baseline) or "abgelaufen" in _text(baseline)
        assert _post(client, f"{base}/{cycle_id}/stage", {"target": "baseline"}).status_code == 400
        assert _post(client, f"{base}/{cycle_id}/measurements/{measurement_id}/delete", {}).status_code == 400
        assert _post(client, f"{base}/new", VALID["new"]).status_code == 400
        page = _text(_get(client, f"{base}/{cycle_id}/"))
        assert 'name="csrf_token"' in page  # the page's own small forms carry the token
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _state(session, org) == before
