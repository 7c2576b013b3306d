"""The reminder e-mails' tasks: the hourly fan-out picks each organization once a day, in its local morning;
the batches send once however often they are delivered, in-process and in a real worker on Redis."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engpass import task_names, tenancy
from engpass.i18n import zone_named
from engpass.reminders import mailing
from engpass.reminders.mailing import MORNING_HOUR, in_their_morning
from tests.support.committed import CommittedOrg, committed_org
from tests.support.cycles import named_cycle
from tests.support.workers import wait_for, worker_on_private_queue
from workers.celery_app import REMINDERS_SCHEDULE
from workers.tasks import reminders as reminder_tasks

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",  # +5:30
    "Asia/Kathmandu",  # +5:45
    "Pacific/Chatham",  # +12:45, +13:45 in its summer
    "America/St_Johns",  # -3:30, -2:30 in its summer
    "Not/AZone",  # counts as UTC, as for the organization's day
]


def _runs(day: datetime) -> list[datetime]:
    """The beat's runs of one UTC day: every hour at the minute of the schedule."""
    (minute,) = REMINDERS_SCHEDULE.minute
    return [day.replace(hour=hour, minute=minute) for hour in range(24)]


@pytest.mark.parametrize(
    "day",
    [
        datetime(2026, 12, 2, tzinfo=UTC),
        datetime(2026, 7, 1, tzinfo=UTC),
        # The days the clocks change in Berlin, and in New York.
        datetime(2026, 3, 29, tzinfo=UTC),
        datetime(2026, 10, 25, tzinfo=UTC),
        datetime(2026, 3, 8, tzinfo=UTC),
        datetime(2026, 11, 1, tzinfo=UTC),
    ],
)
def test_every_organization_is_picked_once_a_day_in_its_morning_hour(session, make_org, day):
    orgs = {}
    for zone in ZONES:
        org = make_org(f"Zone {zone}")
        org.timezone = zone
        orgs[org.id] = zone
    session.commit()
    picked: dict[int, list[datetime]] = {org_id: [] for org_id in orgs}
    # A whole local day for every zone: the UTC day before and after, too.
    for run in _runs(day - timedelta(days=1)) + _runs(day) + _runs(day + timedelta(days=1)):
        for org_id in in_their_morning(session, run):
            if org_id in picked:
                picked[org_id].append(run)
    for org_id, runs in picked.items():
        zone = zone_named(orgs[org_id])
        local_days = [run.astimezone(zone).date() for run in runs]
        assert len(local_days) == len(set(local_days)) == 3, (orgs[org_id], runs)
        assert {run.astimezone(zone).hour for run in runs} == {MORNING_HOUR}
        # At least seven minutes from either end of the hour, so a clock a little off finds it too.
        assert all(7 <= run.astimezone(zone).minute <= 52 for run in runs)


def test_the_hourly_run_fans_out_the_organizations_of_this_morning(app, celery, session, make_org, monkeypatch):
    berlin, tokyo = make_org("Berlin GmbH"), make_org("Tokyo KK")
    tokyo.timezone = "Asia/Tokyo"
    session.commit()
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(celery, "send_task", lambda name, kwargs: sent.append((name, kwargs)))
    monkeypatch.setattr(reminder_tasks, "FAN_OUT_BATCH", 1)
    berlin_morning = datetime(2026, 12, 2, 6, 7, tzinfo=UTC)  # 07:07 in Berlin, 15:07 in Tokyo
    monkeypatch.setattr(reminder_tasks, "utcnow", lambda: berlin_morning)
    entry = celery.conf.beat_schedule["reminders-hourly"]
    assert entry["task"] == task_names.SEND_DUE_REMINDERS
    assert entry["schedule"] == REMINDERS_SCHEDULE
    count = celery.tasks[task_names.SEND_DUE_REMINDERS].apply(throw=True).get()
    batches = [kwargs for name, kwargs in sent if name == task_names.SEND_REMINDERS_BATCH]
    assert count == len(batches), "one organization per batch here"
    assert {"org_ids": [berlin.id], "now": berlin_morning.isoformat()} in batches
    assert all(kwargs["org_ids"] != [tokyo.id] for kwargs in batches)


def test_a_batch_sends_once_however_often_it_is_delivered(app, celery, session, make_user, make_org, smtp):
    owners = [make_user(email=f"chefin{i}@example.com") for i in range(2)]
    orgs = [make_org(f"Stapel {i} GmbH", owner=owner) for i, owner in enumerate(owners)]
    for org, owner in zip(orgs, owners, strict=True):
        with tenancy.tenant_context(session, org.id):
            named_cycle(session, owner.id, "Überfällig", named_days_ago=10)
            session.commit()
    batch = celery.tasks[task_names.SEND_REMINDERS_BATCH]
    kwargs = {"org_ids": [org.id for org in orgs], "now": datetime.now(UTC).isoformat()}
    assert batch.apply(kwargs=kwargs, throw=True).get() == 2
    assert batch.apply(kwargs=kwargs, throw=True).get() == 0, "a redelivery, or the same hour's second beat"
    assert sorted(r.rcpt_tos[0] for r in smtp.handler.received) == ["chefin0@example.com", "chefin1@example.com"]


def test_a_batch_tries_again_only_the_organizations_that_failed(
    app, celery, session, make_user, make_org, smtp, monkeypatch
):
    owners = [make_user(email=f"wieder{i}@example.com") for i in range(2)]
    orgs = [make_org(f"Wieder {i} GmbH", owner=owner) for i, owner in enumerate(owners)]
    for org, owner in zip(orgs, owners, strict=True):
        with tenancy.tenant_context(session, org.id):
            named_cycle(session, owner.id, "Überfällig", named_days_ago=10)
            session.commit()
    real = mailing.open_reminders
    calls: list[int | None] = []

    def flaky(s, today, owner_id=None):
        calls.append(tenancy.current_org_id())
        if calls.count(orgs[0].id) == 1 and tenancy.current_org_id() == orgs[0].id:
            raise ConnectionError("the database went away")
        return real(s, today, owner_id)

    monkeypatch.setattr(mailing, "open_reminders", flaky)
    kwargs = {"org_ids": [org.id for org in orgs], "now": datetime.now(UTC).isoformat()}
    celery.tasks[task_names.SEND_REMINDERS_BATCH].apply(kwargs=kwargs)
    assert calls == [orgs[0].id, orgs[1].id, orgs[0].id], "the retry is for the failed organization alone"
    assert sorted(r.rcpt_tos[0] for r in smtp.handler.received) == ["wieder0@example.com", "wieder1@example.com"]


# --- a real worker process on Redis ----------------------------------------------------------------


@pytest.fixture
def worker_org(databases: dict[str, str], live_engine: Any) -> Iterator[CommittedOrg]:
    """An organization whose owner has a reminder due, committed for the worker."""
    with committed_org(databases, live_engine, "worker", "Wera", {"Vom Worker erinnert": 10}) as org:
        yield org


@pytest.mark.redis
def test_a_real_worker_sends_the_reminders_once(tmp_path, databases, redis_url, worker_org):
    org = worker_org
    kwargs = {"org_ids": [org.org_id], "now": datetime.now(UTC).isoformat()}
    with worker_on_private_queue(tmp_path, databases, redis_url, pool="prefork") as (worker, publish):
        publish(task_names.SEND_REMINDERS_BATCH, kwargs, "reminders-1")
        (mail,) = wait_for(worker.mails, "the reminder .eml", worker=worker)
        assert mail["Subject"] == f"{org.name}: Ist-Zustand nicht quantifiziert – Vom Worker erinnert"
        body = mail.get_body(("plain",)).get_content()
        assert f"http://engpass.test/o/{org.slug}/cycles/{org.cycle_ids[0]}/baseline" in body
        wait_for(lambda: worker.successes("reminders-1"), "the first delivery", worker=worker)
        # The same batch again, as a redelivery or a second beat would bring it.
        publish(task_names.SEND_REMINDERS_BATCH, kwargs, "reminders-2")
        assert wait_for(lambda: worker.successes("reminders-2"), "the second delivery", worker=worker) == ["0"]
        assert len(worker.mails()) == 1
