"""The rollout's 30/60/90-day re-measurements through the existing reminders: the rule at its edges, the
reminders' one query, the to-do list, and the e-mail to the cycle's owner exactly once per checkpoint."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from engpass import tenancy
from engpass.cycles.models import Cycle
from engpass.i18n import today_in
from engpass.notifications.models import SendLog
from engpass.organizations.service import create_organization
from engpass.reminders.mailing import send_reminders
from engpass.reminders.rules import Rule, open_reminders
from engpass.rollouts import checkpoints, service
from engpass.rollouts.models import Reach, RolloutMeasurement
from tests.support.cycles import scaled_quoting_cycle

START = date(2026, 9, 1)


def _m(days: int, **figures) -> RolloutMeasurement:
    return RolloutMeasurement(measured_on=START + timedelta(days=days), note="", **figures)


@pytest.mark.parametrize("today", range(20, 110))
@pytest.mark.parametrize("measured", [None, 22, 23, 30, 53, 83, 90])
def test_the_reminders_reading_agrees_with_the_checkpoints(today, measured):
    """``reminding`` reads only the latest effect day; it must say what ``due`` says of every measurement."""
    rows = [] if measured is None or measured > today else [_m(measured, kpi_value=Decimal(5))]
    due = checkpoints.due(START, rows, START + timedelta(days=today))
    last = rows[0].measured_on if rows else None
    assert checkpoints.reminding(START, last, START + timedelta(days=today)) == (due.days if due else None)


def _today() -> date:
    return today_in("Europe/Berlin")


@pytest.fixture
def scaled(session, make_user):
    owner = make_user(email="sabine@example.com", name="Sabine")
    org = create_organization(session, "Beispiel GmbH", owner)
    session.commit()
    with tenancy.tenant_context(session, org.id):
        cycle = scaled_quoting_cycle(session, owner)
        data = {"reach": Reach.people, "target_count": 40, "started_on": _today() - timedelta(days=30)}
        service.save_rollout(session, cycle, data, owner.id)
        session.commit()
        return owner, org, cycle.id


def test_due_on_day_30_not_on_day_29_in_the_reminders_one_query(session, scaled, count_queries):
    owner, org, cycle_id = scaled
    with tenancy.tenant_context(session, org.id):
        assert [r.rule for r in open_reminders(session, _today() - timedelta(days=1))] == []
        with count_queries() as counted:
            (reminder,) = open_reminders(session, _today())
        assert counted.count == 1
    assert (reminder.rule, reminder.cycle_id, reminder.owner_id) == (Rule.rollout_checkpoint, cycle_id, owner.id)
    assert reminder.period.endswith(":30") and reminder.since == _today()


def test_an_effect_measured_in_the_window_resolves_it(session, scaled):
    owner, org, cycle_id = scaled
    with tenancy.tenant_context(session, org.id):
        cycle = session.get(Cycle, cycle_id)
        rollout = service.rollout_of(session, cycle)
        service.add_measurement(session, cycle, rollout, {"measured_on": _today(), "reached": 30}, owner.id)
        assert len(open_reminders(session, _today())) == 1, "adoption alone re-measures no effect"
        data = {"measured_on": _today() - timedelta(days=6), "hours_per_week": Decimal(6)}
        service.add_measurement(session, cycle, rollout, data, owner.id)
        session.commit()
        assert open_reminders(session, _today()) == []


def test_the_owner_gets_the_reminder_once(app_context, session, settings, scaled, smtp):
    owner, org, cycle_id = scaled
    now = datetime.now(UTC)
    assert send_reminders(session, org.id, now, settings) == 1
    assert send_reminders(session, org.id, now, settings) == 0
    assert send_reminders(session, org.id, now + timedelta(days=3), settings) == 0, "once per checkpoint"
    (received,) = smtp.handler.received
    assert received.rcpt_tos == ["sabine@example.com"]
    assert "Nachmessung des Rollouts fällig" in received.message["Subject"]
    text = received.message.get_body(("plain",)).get_content()
    assert f"/cycles/{cycle_id}/rollout/measurements/new" in text
    (row,) = session.scalars(select(SendLog).where(SendLog.kind == "reminder.rollout_checkpoint")).all()
    assert row.period.endswith(":30")
