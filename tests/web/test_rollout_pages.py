"""A scaled cycle's rollout on the cycle page: opening it, measuring it, bad numbers, who may, another
organization's ids, decisions other than "scale", and the page's query count with 3 and 30 measurements."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import refresh
from pypdf import PdfReader
from sqlalchemy import select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.cycles import service as cycles
from engpass.cycles.models import Cycle, Decision
from engpass.i18n import today_in
from engpass.organizations.models import Organization, Role
from engpass.organizations.service import add_member
from engpass.rollouts import service
from engpass.rollouts.models import Reach, Rollout, RolloutMeasurement
from tests.support.cycles import scaled_quoting_cycle

ROLLOUT = {
    "reach": "people",
    "target_description": "Vertrieb in allen drei Niederlassungen",
    "target_count": "40",
    "one_off_cost": "2.600,00",
    "running_cost_per_month": "100,50",
    "started_on": "",
    "target_on": "",
}


def _text(response) -> str:
    return response.get_data(as_text=True).replace("\xa0", " ")


def _get(client, url: str):
    refresh()
    return client.get(url)


def _post(client, url: str, data: dict):
    refresh()
    return client.post(url, data=data)


@pytest.fixture
def world(session, make_user, make_org, login):
    owner = make_user(name="Sabine Müller")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle_id = scaled_quoting_cycle(session, owner).id
        session.commit()
    login(owner)
    return owner, org, cycle_id


def _url(org, cycle_id, tail=""):
    return f"/o/{org.slug}/cycles/{cycle_id}/{tail}"


def _open(session, org, owner, cycle_id, days_ago: int = 100) -> int:
    with tenancy.tenant_context(session, org.id):
        cycle = session.get(Cycle, cycle_id)
        data = {
            "reach": Reach.people,
            "target_count": 40,
            "started_on": today_in("Europe/Berlin") - timedelta(days=days_ago),
        }
        data |= {"one_off_cost": Decimal(2600), "running_cost_per_month": Decimal("100.50")}
        rollout = service.save_rollout(session, cycle, data, owner.id)
        session.commit()
        return rollout.id


def test_a_scaled_cycle_opens_its_rollout_with_numbers_in_german(client, session, world):
    owner, org, cycle_id = world
    page = _text(_get(client, _url(org, cycle_id)))
    assert 'id="rollout"' in page and "Rollout eröffnen" in page
    start = (today_in("Europe/Berlin") - timedelta(days=3)).isoformat()
    response = _post(client, _url(org, cycle_id, "rollout"), ROLLOUT | {"started_on": start})
    assert response.status_code == 302
    with tenancy.tenant_context(session, org.id):
        rollout = session.scalar(select(Rollout))
        assert (rollout.target_count, rollout.one_off_cost) == (40, Decimal("2600.00"))
        assert rollout.running_cost_per_month == Decimal("100.50")
        events = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("rollout%"))).all()
    assert events == ["rollout.opened"]
    page = _text(_get(client, _url(org, cycle_id)))
    assert "Vertrieb in allen drei Niederlassungen" in page and "Business Case: Prototyp und skaliert" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("one_off_cost", "1.234", "1.234"),  # ambiguous: refused, never guessed
        ("target_count", "abc", "Bitte"),
        ("target_count", "0", ""),
        ("target_on", "2000-01-01", "Der Zieltermin kann nicht vor dem Start liegen."),
    ],
)
def test_bad_numbers_get_a_message_and_nothing_is_lost(client, session, world, field, value, message):
    owner, org, cycle_id = world
    data = ROLLOUT | {"started_on": today_in("Europe/Berlin").isoformat(), field: value}
    response = _post(client, _url(org, cycle_id, "rollout"), data)
    assert response.status_code == 422
    page = _text(response)
    assert message in page and "Vertrieb in allen drei Niederlassungen" in page
    with tenancy.tenant_context(session, org.id):
        assert session.scalar(select(Rollout)) is None


def test_measuring_adoption_shows_it_and_refuses_a_future_day(client, session, world):
    owner, org, cycle_id = world
    _open(session, org, owner, cycle_id, days_ago=35)
    url = _url(org, cycle_id, "rollout/measurements/new")
    assert _get(client, url).status_code == 200
    tomorrow = (today_in("Europe/Berlin") + timedelta(days=1)).isoformat()
    refused = _post(client, url, {"measured_on": tomorrow, "reached": "12"})
    assert refused.status_code == 422 and "nach heute" in _text(refused)
    empty = _post(client, url, {"measured_on": today_in("Europe/Berlin").isoformat()})
    assert empty.status_code == 422 and "Bitte geben Sie an, wie viele erreicht sind" in _text(empty)
    assert (
        _post(client, url, {"measured_on": today_in("Europe/Berlin").isoformat(), "reached": "12"}).status_code == 302
    )
    page = _text(_get(client, _url(org, cycle_id)))
    assert '<progress max="100" value="30"' in page and "12 von 40 Personen erreicht" in page


def _sustained_at_90(session, org, owner, cycle_id):
    """A rollout opened 95 days ago (costs as ROLLOUT's) whose 90-day measurement keeps 80 % of the effect."""
    _open(session, org, owner, cycle_id, days_ago=95)
    with tenancy.tenant_context(session, org.id):
        cycle = session.get(Cycle, cycle_id)
        rollout = service.rollout_of(session, cycle)
        day_90 = rollout.started_on + timedelta(days=90)
        service.add_measurement(
            session,
            cycle,
            rollout,
            {"measured_on": day_90, "reached": 38, "kpi_value": Decimal(5), "hours_per_week": 6},
            owner.id,
        )
        session.commit()


def test_the_sustained_effect_shows_in_the_business_case(client, session, world):
    owner, org, cycle_id = world
    _sustained_at_90(session, org, owner, cycle_id)
    page = _text(_get(client, _url(org, cycle_id)))
    # The prototype brought 9 days to 4; 5 days at 90 days keeps 4 of 5: 80 %, exactly the threshold.
    assert "Gehalten: nach 90 Tagen hält die Kennzahl 80 % der Verbesserung des Prototyps" in page


def test_the_page_the_print_page_and_the_pdf_show_the_same_figures_at_scale(client, session, world):
    owner, org, cycle_id = world
    _sustained_at_90(session, org, owner, cycle_id)
    sheet = _text(_get(client, _url(org, cycle_id, "business-case/print")))
    reader = PdfReader(io.BytesIO(_get(client, _url(org, cycle_id)[:-1] + "/business-case.pdf").data))
    pdf = " ".join(" ".join(p.extract_text() for p in reader.pages).replace("\xa0", " ").split())
    page = _text(_get(client, _url(org, cycle_id)))
    assert len(reader.pages) == 1
    # 8 h × 65 € × 52 = 27.040 € proven; at scale less the rollout's 100,50 € a month: 25.834 €.
    for expected in ("Business Case: Prototyp und skaliert", "27.040 €", "25.834 €", "2.600 €", "Gehalten"):
        assert expected in page and expected in sheet and expected in pdf, expected


@pytest.mark.parametrize("decision", [Decision.iterate, Decision.drop])
def test_other_decisions_have_no_rollout(client, session, world, decision):
    owner, org, cycle_id = world
    with tenancy.tenant_context(session, org.id):
        cycle = session.get(Cycle, cycle_id)
        cycles.decide(session, cycle, {"decision": decision, "decision_reason": "x"}, owner.id)
        session.commit()
        with pytest.raises(service.NotScaled):
            service.save_rollout(session, cycle, {"reach": Reach.people, "target_count": 4}, owner.id)
        session.rollback()
    assert 'id="rollout"' not in _text(_get(client, _url(org, cycle_id)))
    assert _get(client, _url(org, cycle_id, "rollout")).status_code == 404


def test_a_viewer_reads_and_may_not_edit(client, session, world, make_user, login):
    owner, org, cycle_id = world
    _open(session, org, owner, cycle_id)
    viewer = make_user(name="Vera", email="vera@example.com")
    add_member(session, session.get(Organization, org.id), viewer, Role.viewer)
    session.commit()
    client.post("/logout")
    login(viewer)
    assert 'id="rollout"' in _text(_get(client, _url(org, cycle_id)))
    assert _get(client, _url(org, cycle_id, "rollout")).status_code == 403
    assert _get(client, _url(org, cycle_id, "rollout/measurements/new")).status_code == 403


def test_another_organizations_rollout_is_404(client, session, world, make_user, make_org, login):
    owner, org, cycle_id = world
    _open(session, org, owner, cycle_id)
    with tenancy.tenant_context(session, org.id):
        cycle = session.get(Cycle, cycle_id)
        rollout = service.rollout_of(session, cycle)
        measured = service.add_measurement(
            session, cycle, rollout, {"measured_on": today_in("Europe/Berlin"), "reached": 3}, None
        )
        session.commit()
        measurement_id = measured.id
    other = make_user(name="Olaf", email="olaf@example.com")
    other_org = make_org("Andere GmbH", owner=other)
    client.post("/logout")
    login(other)
    for tail in ("rollout", "rollout/measurements/new", f"rollout/measurements/{measurement_id}/edit"):
        assert _get(client, _url(other_org, cycle_id, tail)).status_code == 404
    delete = _url(other_org, cycle_id, f"rollout/measurements/{measurement_id}/delete")
    assert _post(client, delete, {}).status_code == 404


def test_a_due_re_measurement_is_on_the_todo_list_and_the_dashboard_until_measured(client, session, world):
    owner, org, cycle_id = world
    _get(client, f"/o/{org.slug}/")  # the dashboard before the rollout: its cache must not hide it after
    _open(session, org, owner, cycle_id, days_ago=30)
    page = _text(_get(client, f"/o/{org.slug}/todo"))
    assert "Nachmessung des Rollouts fällig" in page
    assert f"/cycles/{cycle_id}/rollout/measurements/new" in page
    assert "Die Wirkung des Rollouts ist am" in _text(_get(client, f"/o/{org.slug}/"))
    url = _url(org, cycle_id, "rollout/measurements/new")
    assert (
        _post(client, url, {"measured_on": today_in("Europe/Berlin").isoformat(), "hours_per_week": "6"}).status_code
        == 302
    )
    assert "Die Wirkung des Rollouts ist am" not in _text(_get(client, f"/o/{org.slug}/"))
    assert "Nachmessung des Rollouts fällig" not in _text(_get(client, f"/o/{org.slug}/todo"))


def _measurements(session, org, rollout_id: int, count: int, start: int = 0) -> None:
    with tenancy.tenant_context(session, org.id):
        for i in range(start, start + count):
            session.add(
                RolloutMeasurement(
                    rollout_id=rollout_id,
                    measured_on=today_in("Europe/Berlin") - timedelta(days=90 - i),
                    reached=i,
                    kpi_value=Decimal(5),
                    note="",
                )
            )
        session.commit()


def test_cycle_page_query_count_is_the_same_with_3_and_30_rollout_measurements(client, session, world, count_queries):
    owner, org, cycle_id = world
    rollout_id = _open(session, org, owner, cycle_id)
    _measurements(session, org, rollout_id, 3)
    url = _url(org, cycle_id)

    def count() -> int:
        _get(client, url)
        refresh()
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    small = count()
    _measurements(session, org, rollout_id, 27, start=3)
    assert count() == small
