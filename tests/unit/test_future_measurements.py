"""No measurement from the future: a result dated after today, in the organization's time zone, is refused by
the cycle service (so by the forms, the API and any import alike), before it can feed the business case.

The time-zone case needs no frozen clock: at any moment either Kiritimati (UTC+14) is a day ahead of UTC or
Pago Pago (UTC−11) a day behind, and the test takes the one that differs now.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask_babel import refresh
from sqlalchemy import select

from engpass import tenancy
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Cycle, Measurement, SolutionType
from engpass.i18n import today_in
from tests.support.api import bearer, make_token
from tests.support.cycles import save_a_baseline

REFUSED = "Eine Messung kann nicht nach heute datiert sein."


def _zone_whose_today_is_not_utcs() -> str:
    utc_today = datetime.now(UTC).date()
    zone = next(z for z in ("Pacific/Kiritimati", "Pacific/Pago_Pago") if today_in(z) != utc_today)
    return zone


@pytest.fixture
def running(session, make_user, make_org, login):
    """A cycle whose prototype started a week ago (organization's days), its owner logged in."""

    def _build(timezone: str = "Europe/Berlin"):
        owner = make_user(name="Sabine Müller")
        org = make_org("Müller Metallbau GmbH", owner=owner)
        org.timezone = timezone
        session.commit()
        today = today_in(timezone)
        with tenancy.tenant_context(session, org.id):
            cycle = cycles.create_cycle(
                session, title="Angebote", category=Category.quoting, why="x", owner_id=owner.id, actor_id=owner.id
            )
            save_a_baseline(session, cycle, owner.id)
            cycles.save_solution(
                session, cycle, {"solution_what": "Vorlage", "solution_type": SolutionType.other}, owner.id
            )
            cycles.start_prototype(session, cycle, {"prototype_start": today - timedelta(days=7)}, owner.id)
            session.commit()
        login(owner)
        return org, owner, cycle, today

    return _build


def _measurements(session, org) -> list[date]:
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        return list(session.scalars(select(Measurement.measured_on).order_by(Measurement.measured_on)))


def test_the_service_refuses_a_day_after_the_organizations_today(app_context, session, running):
    org, owner, cycle, today = running()
    with tenancy.tenant_context(session, org.id):
        with pytest.raises(cycles.MeasuredInFuture) as refused:
            cycles.add_measurement(session, cycle, {"measured_on": today + timedelta(days=1), "kpi_value": 4}, owner.id)
        assert refused.value.today == today
        measurement = cycles.add_measurement(session, cycle, {"measured_on": today, "kpi_value": 4}, owner.id)
        with pytest.raises(cycles.MeasuredInFuture):
            cycles.update_measurement(
                session, cycle, measurement, {"measured_on": today + timedelta(days=30)}, owner.id
            )
        session.rollback()


def test_the_organizations_time_zone_decides_what_today_is(app_context, session, running):
    zone = _zone_whose_today_is_not_utcs()
    org, owner, cycle, today = running(zone)
    utc_today = datetime.now(UTC).date()
    with tenancy.tenant_context(session, org.id):
        if today > utc_today:
            # Already tomorrow in Kiritimati: a result of its today counts, though UTC's calendar is a day behind.
            cycles.add_measurement(session, cycle, {"measured_on": today, "kpi_value": 4}, owner.id)
        else:
            # Still yesterday in Pago Pago: UTC's today is their tomorrow.
            with pytest.raises(cycles.MeasuredInFuture):
                cycles.add_measurement(session, cycle, {"measured_on": utc_today, "kpi_value": 4}, owner.id)
        with pytest.raises(cycles.MeasuredInFuture):
            cycles.add_measurement(session, cycle, {"measured_on": today + timedelta(days=1), "kpi_value": 4}, owner.id)
        session.rollback()


def _post(client, url, data):
    refresh()
    return client.post(url, data=data)


def test_the_form_refuses_tomorrow_and_offers_no_later_day(client, session, running):
    org, _owner, cycle, today = running()
    url = f"/o/{org.slug}/cycles/{cycle.id}/measurements/new"
    refresh()
    assert f'max="{today.isoformat()}"' in client.get(url).text
    tomorrow = (today + timedelta(days=1)).isoformat()
    response = _post(client, url, {"measured_on": tomorrow, "kpi_value": "4", "hours_per_week": "6"})
    assert response.status_code == 422
    assert REFUSED in response.text and f'value="{tomorrow}"' in response.text
    assert _measurements(session, org) == []
    assert _post(client, url, {"measured_on": today.isoformat(), "kpi_value": "4"}).status_code == 302
    assert _measurements(session, org) == [today]


def test_editing_a_measurement_into_the_future_is_refused(client, session, running):
    org, owner, cycle, today = running()
    with tenancy.tenant_context(session, org.id):
        measurement = cycles.add_measurement(session, cycle, {"measured_on": today, "kpi_value": 4}, owner.id)
        session.commit()
        measurement_id = measurement.id
    url = f"/o/{org.slug}/cycles/{cycle.id}/measurements/{measurement_id}/edit"
    later = (today + timedelta(days=90)).isoformat()
    response = _post(client, url, {"measured_on": later, "kpi_value": "4"})
    assert response.status_code == 422 and REFUSED in response.text
    assert _measurements(session, org) == [today]


def test_the_api_refuses_tomorrow_with_a_problem_naming_the_field(client, session, running):
    zone = _zone_whose_today_is_not_utcs()
    org, owner, cycle, today = running(zone)
    token = make_token(session, org, owner)
    url = f"/api/v1/cycles/{cycle.id}/measurements"
    tomorrow = today + timedelta(days=1)
    response = client.post(url, json={"measured_on": tomorrow.isoformat(), "kpi_value": 4}, headers=bearer(token))
    # 409: the body fits the document; what "after today" means depends on the day and the time zone.
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    [error] = response.get_json()["errors"]
    assert error["field"] == "measured_on"
    assert error["message"] == (
        f"Eine Messung kann nicht nach heute datiert sein (heute ist der {today.isoformat()} "
        "in der Zeitzone der Organisation)."
    )
    assert _measurements(session, org) == []
    with tenancy.tenant_context(session, org.id):
        assert session.get(Cycle, cycle.id).stage.value == "prototype"
    answer = client.post(url, json={"measured_on": today.isoformat(), "kpi_value": 4}, headers=bearer(token))
    assert answer.status_code == 201, answer.text
    assert _measurements(session, org) == [today]
    assert Decimal(answer.get_json()["kpi_value"]) == 4
