"""The status quo's indirect cost items on the cycle page: adding, editing, deleting, by role, with bad input,
another organization's ids, and the weekly figure the business case reads kept in step."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import refresh
from sqlalchemy import func, select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.cycles import indirect_service, service
from engpass.cycles.models import Category, Cycle, IndirectCostItem, KpiDirection
from engpass.organizations.models import Organization, Role
from engpass.organizations.service import add_member

ERRORS = {
    "kind": "errors",
    "label": "Nacharbeit an Angeboten",
    "quantity": "6",
    "unit_value": "85,00",
    "period": "month",
    "source": "measured",
    "source_note": "Gutschriften 2026",
}


def _text(response) -> str:
    return response.get_data(as_text=True).replace("\xa0", " ")


@pytest.fixture
def world(session, make_user, make_org, login):
    owner = make_user(name="Sabine Müller")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle = service.create_cycle(
            session, title="Angebote", category=Category.quoting, why="", owner_id=owner.id, actor_id=owner.id
        )
        baseline = {
            "hours_per_week": Decimal(14),
            "kpi_name": "Dauer",
            "kpi_unit": "Tage",
            "kpi_direction": KpiDirection.lower,
            "kpi_baseline": Decimal(9),
        }
        service.save_baseline(session, cycle, baseline, None, owner.id)
        session.commit()
        cycle_id = cycle.id
    login(owner)
    return owner, org, cycle_id


def _url(org, cycle_id, tail=""):
    return f"/o/{org.slug}/cycles/{cycle_id}/{tail}"


def _items(session, org, cycle_id):
    session.expire_all()
    with tenancy.tenant_context(session, org.id):
        cycle = session.get(Cycle, cycle_id)
        return cycle, list(cycle.indirect_cost_items)


def _add(session, org, owner, cycle_id, **values):
    data = {
        "label": "",
        "kind": "other",
        "quantity": None,
        "unit_value": Decimal(10),
        "people_affected": None,
        "period": "week",
        "source": "estimated",
        "source_note": "",
    }
    data.update(values)
    with tenancy.tenant_context(session, org.id):
        item = indirect_service.add_item(session, session.get(Cycle, cycle_id), data, owner.id)
        session.commit()
        return item.id


def test_an_item_is_added_shown_with_its_formula_edited_and_deleted(client, session, world):
    owner, org, cycle_id = world
    refresh()
    form = client.get(_url(org, cycle_id, "indirect-costs/new?kind=errors"))
    assert form.status_code == 200
    page = _text(form)
    assert "Kosten je Fehler" in page and "Anzahl Fehler" in page and "Betroffene Personen" not in page

    refresh()
    response = client.post(_url(org, cycle_id, "indirect-costs/new?kind=errors"), data=ERRORS)
    assert response.status_code == 302 and response.location.endswith("#indirect-costs")
    cycle, items = _items(session, org, cycle_id)
    assert [(i.kind, i.quantity, i.unit_value, i.period, i.source) for i in items] == [
        ("errors", Decimal(6), Decimal(85), "month", "measured")
    ]
    # 6 × 85 × 12 = 6,120 a year; ÷ 52 working weeks = 117.69 a week for the business case.
    assert cycle.indirect_cost_per_week == Decimal("117.69")

    refresh()
    page = _text(client.get(_url(org, cycle_id)))
    assert "Nacharbeit an Angeboten" in page
    assert "6 Fehler × 85 € je Fehler pro Monat × 12 Monate = 6.120 €" in page
    assert "Messung" in page and "Gutschriften 2026" in page
    # 14 × 65 × 52 = 47,320 + 6,120; nothing rests on a guess.
    assert "53.440 €" in page and "Keine indirekte Kostenposition ist eine Vermutung." in page

    item_id = items[0].id
    refresh()
    edit = _text(client.get(_url(org, cycle_id, f"indirect-costs/{item_id}/edit?kind=waiting")))
    assert "Wartestunden je Person" in edit and "Betroffene Personen" in edit and "Kosten je Fehler" not in edit
    waiting = {**ERRORS, "kind": "waiting", "quantity": "1,5", "people_affected": "3", "period": "week"}
    waiting["source"] = "guess"
    refresh()
    assert client.post(_url(org, cycle_id, f"indirect-costs/{item_id}/edit"), data=waiting).status_code == 302
    cycle, items = _items(session, org, cycle_id)
    # Waiting is valued at the hourly rate; the amount of the errors it was is not kept.
    assert (items[0].kind, items[0].unit_value, items[0].people_affected) == ("waiting", None, 3)
    assert cycle.indirect_cost_per_week == Decimal("292.50")  # 1.5 × 3 × 65
    refresh()
    page = _text(client.get(_url(org, cycle_id)))
    # 292.50 × 52 = 15,210 of 47,320 + 15,210 = 62,530 rest on a guess: 24.3 %.
    assert "24,3 %" in page and "15.210 € von 62.530 € beruhen auf Vermutungen: Nacharbeit an Angeboten" in page

    refresh()
    assert client.post(_url(org, cycle_id, f"indirect-costs/{item_id}/delete")).status_code == 302
    cycle, items = _items(session, org, cycle_id)
    assert items == [] and cycle.indirect_cost_per_week is None
    with tenancy.tenant_context(session, org.id):
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("indirect_cost.%")).order_by(AuditEvent.id)
        ).all()
    assert actions == ["indirect_cost.added", "indirect_cost.updated", "indirect_cost.deleted"]
    refresh()
    log = _text(client.get(f"/o/{org.slug}/audit/"))
    assert "Indirekte Kostenposition hinzugefügt" in log and "Art von Fehler auf Wartezeit geändert" in log


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"quantity": ""}, "Bitte geben Sie ein, wie viele (oder wie viele Stunden)."),
        ({"quantity": "viel"}, "Bitte geben Sie eine Zahl ein"),
        ({"quantity": "-1"}, "Bitte geben Sie 0 oder mehr ein."),
        ({"unit_value": ""}, "Bitte geben Sie den Betrag ein."),
        ({"unit_value": "1.000"}, "nicht eindeutig"),
        ({"unit_value": "10000000000000"}, "Diese Zahl ist zu groß"),
        ({"period": "decade"}, "pro Woche, Monat oder Jahr"),
        ({"period": ""}, "pro Woche, Monat oder Jahr"),
        ({"source": "hearsay"}, "gemessen, geschätzt oder vermutet"),
        ({"kind": "bribes"}, "Bitte wählen Sie eine der Arten indirekter Kosten."),
        ({"label": "x" * 201}, "Höchstens 200 Zeichen."),
        ({"source_note": "eins\nzwei"}, "eine Zeile"),
    ],
)
def test_bad_input_gets_the_form_again_with_a_message_and_saves_nothing(client, session, world, changed, message):
    _owner, org, cycle_id = world
    refresh()
    response = client.post(_url(org, cycle_id, "indirect-costs/new"), data={**ERRORS, **changed})
    assert response.status_code == 422
    assert message in _text(response), _text(response)[-3000:]
    assert _items(session, org, cycle_id)[1] == []


def test_waiting_needs_the_people_and_reads_them_as_a_whole_number(client, session, world):
    _owner, org, cycle_id = world
    waiting = {**ERRORS, "kind": "waiting", "quantity": "2", "period": "week"}
    for people, message in (("", "Bitte geben Sie ein, wie viele Personen warten."), ("2,5", "ganze Zahl")):
        refresh()
        response = client.post(_url(org, cycle_id, "indirect-costs/new"), data={**waiting, "people_affected": people})
        assert response.status_code == 422 and message in _text(response)
    refresh()
    response = client.post(_url(org, cycle_id, "indirect-costs/new"), data={**waiting, "people_affected": "4"})
    assert response.status_code == 302
    cycle, items = _items(session, org, cycle_id)
    assert items[0].people_affected == 4 and items[0].quantity == 2
    assert cycle.indirect_cost_per_week == Decimal("520.00")  # 2 h × 4 people × 65 €


def test_another_organizations_or_cycles_items_answer_404(client, session, make_user, make_org, world):
    owner, org, cycle_id = world
    with tenancy.tenant_context(session, org.id):
        sibling = service.create_cycle(
            session,
            title="Zweiter",
            category=Category.other,
            why="",
            owner_id=owner.id,
            actor_id=owner.id,
            confirm_second_open=True,
        )
        session.commit()
        sibling_id = sibling.id
    sibling_item = _add(session, org, owner, sibling_id)
    stranger = make_user()
    other = make_org("Fremde AG", owner=stranger)
    with tenancy.tenant_context(session, other.id):
        theirs = service.create_cycle(
            session, title="Geheim", category=Category.other, why="", owner_id=stranger.id, actor_id=stranger.id
        )
        session.commit()
        their_cycle = theirs.id
    their_item = _add(session, other, stranger, their_cycle, label="Geheimposten")
    for item_id in (sibling_item, their_item, 999_999):
        for method, tail in (
            ("GET", f"indirect-costs/{item_id}/edit"),
            ("POST", f"indirect-costs/{item_id}/edit"),
            ("POST", f"indirect-costs/{item_id}/delete"),
        ):
            refresh()
            response = client.open(_url(org, cycle_id, tail), method=method, data=ERRORS)
            assert response.status_code == 404, f"{method} {tail}"
    refresh()
    assert client.post(_url(org, their_cycle, "indirect-costs/new"), data=ERRORS).status_code == 404
    with tenancy.tenant_context(session, other.id):
        session.expire_all()
        item = session.get(IndirectCostItem, their_item)
        assert (item.label, item.kind, session.scalar(select(func.count(IndirectCostItem.id)))) == (
            "Geheimposten",
            "other",
            1,
        )


def test_viewers_see_the_items_but_cannot_change_them(client, session, make_user, login, world):
    owner, org, cycle_id = world
    item_id = _add(session, org, owner, cycle_id, label="Expressversand")
    viewer = make_user()
    add_member(session, session.get(Organization, org.id), viewer, Role.viewer)
    session.commit()
    client.post("/logout")
    login(viewer)
    refresh()
    page = _text(client.get(_url(org, cycle_id)))
    assert "Expressversand" in page and "indirect-costs/new" not in page and f"{item_id}/edit" not in page
    for method, tail in (
        ("GET", "indirect-costs/new"),
        ("POST", "indirect-costs/new"),
        ("POST", f"indirect-costs/{item_id}/edit"),
        ("POST", f"indirect-costs/{item_id}/delete"),
    ):
        refresh()
        assert client.open(_url(org, cycle_id, tail), method=method, data=ERRORS).status_code == 403
    assert len(_items(session, org, cycle_id)[1]) == 1


def test_the_baseline_form_has_no_indirect_field_any_more(client, session, world):
    _owner, org, cycle_id = world
    refresh()
    page = _text(client.get(_url(org, cycle_id, "baseline")))
    assert 'name="indirect_cost_per_week"' not in page
    assert "unter „Indirekte Kosten“" in page


def test_new_working_weeks_or_rate_rewrite_the_weekly_figure(client, session, world):
    owner, org, cycle_id = world
    _add(session, org, owner, cycle_id, kind="errors", quantity=Decimal(6), unit_value=Decimal(85), period="month")
    _add(session, org, owner, cycle_id, kind="waiting", quantity=Decimal(1), people_affected=2, unit_value=None)
    cycle, _items_now = _items(session, org, cycle_id)
    # 6,120 + 1 × 2 × 65 × 52 = 6,760 → 12,880 ÷ 52
    assert cycle.indirect_cost_per_week == Decimal("247.69")
    settings = {
        "name": org.name,
        "locale": "de",
        "timezone": "Europe/Berlin",
        "currency": "EUR",
        "default_hourly_rate": "70",
        "working_weeks_per_year": "46",
    }
    refresh()
    assert client.post(f"/o/{org.slug}/settings", data=settings).status_code == 302
    cycle, _items_now = _items(session, org, cycle_id)
    # 6,120 + 1 × 2 × 70 × 46 = 6,440 → 12,560 ÷ 46 = 273.04
    assert cycle.indirect_cost_per_week == Decimal("273.04")
