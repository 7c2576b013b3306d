"""The daily overdue list and the weekly summary reach a chat channel once per organization and day or week,
however often the reminders' run or the digest's round repeats, through the local HTTP receiver."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from engpass import tenancy
from engpass.digest import sending as digests
from engpass.reminders import mailing
from engpass.webhooks import delivery, endpoints
from engpass.webhooks.delivery import DeliveryStatus
from engpass.webhooks.models import EndpointKind, WebhookEvent
from tests.support.cycles import named_cycle
from tests.support.digests import described_week, monday_7, scaled_cycle_with_trends
from tests.support.webhook_receiver import running_receiver
from tests.support.webhooks import deliveries


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def local(settings):
    settings.webhooks_allow_private_targets = True
    settings.webhooks_allow_http = True
    return settings


def _channel(session, settings, url, kind, event_type):
    endpoints.create_endpoint(session, endpoints.EndpointInput(url, "Team", [event_type], True, kind), settings, None)
    session.commit()


def _deliver_all(session, settings) -> list[DeliveryStatus | None]:
    return [delivery.deliver(session, pending.id, settings).status for pending in deliveries(session)]


def _first_payload(session, org_id):
    with tenancy.tenant_context(session, org_id):
        return session.get(WebhookEvent, deliveries(session)[0].event_id).payload["data"]


def test_the_overdue_list_reaches_teams_once_a_day_however_often_the_run_repeats(
    app_context, session, local, receiver, make_user, make_org, smtp
):
    owner = make_user(name="Sabine")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        _channel(session, local, receiver.url, EndpointKind.teams, "reminders.overdue")
        cycle_id = named_cycle(session, owner.id, "Angebote dauern 9 Tage", named_days_ago=40).id
        session.commit()
    morning = datetime.now(UTC)

    mailing.send_round(session, [org.id], morning, local)
    mailing.send_round(session, [org.id], morning + timedelta(minutes=5), local)
    with tenancy.tenant_context(session, org.id):
        assert _deliver_all(session, local) == [DeliveryStatus.delivered]

    [request] = receiver.received
    card = json.loads(request.body)["attachments"][0]["content"]
    assert [block.get("text") for block in card["body"][:2]] == ["1 Punkt ist überfällig", "Müller Metallbau GmbH"]
    [fact] = card["body"][2]["facts"]
    assert fact["title"] == "Angebote dauern 9 Tage"
    assert fact["value"].startswith("Ist-Zustand nicht quantifiziert, seit ")
    assert card["actions"][0]["url"] == f"http://engpass.test/o/{org.slug}/todo"
    payload_item = _first_payload(session, org.id)["items"][0]
    assert payload_item["web_url"] == f"http://engpass.test/o/{org.slug}/cycles/{cycle_id}/"

    # The next day is another list.
    mailing.send_round(session, [org.id], morning + timedelta(days=1), local)
    with tenancy.tenant_context(session, org.id):
        assert len(deliveries(session)) == 2


def test_the_weekly_summary_reaches_slack_once_a_week_however_often_the_round_repeats(
    app_context, session, local, receiver, make_user, make_org, smtp
):
    owner = make_user(email="sabine@example.com", name="Sabine Müller")
    org = make_org("Digest GmbH", owner=owner)
    scaled_cycle_with_trends(session, org, owner)
    with tenancy.tenant_context(session, org.id):
        _channel(session, local, receiver.url, EndpointKind.slack, "digest.weekly")

    assert digests.send_round(session, monday_7()) == 1
    digests.send_round(session, monday_7(), everyone=True)
    with tenancy.tenant_context(session, org.id):
        assert _deliver_all(session, local) == [DeliveryStatus.delivered]

    [request] = receiver.received
    sent = json.loads(request.body)
    first, last = described_week(monday_7())
    assert sent["text"] == f"Wochenüberblick {first:%d.%m.%Y} – {last:%d.%m.%Y}: Digest GmbH"
    fields = [field["text"] for field in sent["blocks"][2]["fields"]]
    assert fields[0].startswith("*Reifegrad*\n")
    assert fields[1] == "*Einsparung pro Jahr*\n27.040\xa0€"
    assert sent["blocks"][3]["elements"][0]["url"] == f"http://engpass.test/o/{org.slug}/"
