"""Teams and Slack channels against the local HTTP receiver: the card or message delivered exactly once under a
retry, unsigned, in the organization's language; a refusal given up with Slack's reason in the delivery log."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from engpass import tenancy
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, KpiDirection
from engpass.db import utcnow
from engpass.organizations.models import Organization
from engpass.webhooks import delivery, endpoints
from engpass.webhooks.delivery import DeliveryStatus
from engpass.webhooks.models import EndpointKind
from tests.support.webhook_receiver import Reply, running_receiver
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


@pytest.fixture
def org(app_context, session, make_user, make_org):
    owner = make_user(name="Sabine")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        yield org, owner


def _channel(session, settings, url, kind, events=("cycle.stage_changed", "decision.recorded")):
    endpoint, secret = endpoints.create_endpoint(
        session, endpoints.EndpointInput(url, "Team", list(events), True, kind), settings, None
    )
    session.commit()
    assert secret is None
    return endpoint


def _quantify_a_bottleneck(session, owner):
    """A named bottleneck whose status quo is saved: one stage change, bottleneck → baseline."""
    cycle = cycles.create_cycle(
        session,
        title="Angebote dauern 9 Tage",
        category=Category.quoting,
        why="Größter Hebel",
        owner_id=owner.id,
        actor_id=owner.id,
        confirm_second_open=True,
    )
    baseline = {
        "hours_per_week": Decimal(5),
        "kpi_name": "Dauer",
        "kpi_unit": "Tage",
        "kpi_direction": KpiDirection.lower,
        "kpi_baseline": Decimal("1234.5"),
    }
    cycles.save_baseline(session, cycle, baseline, None, owner.id)
    session.commit()
    return cycle


def test_a_teams_card_is_delivered_once_after_a_500_unsigned_in_german(session, org, local, receiver):
    the_org, owner = org
    _channel(session, local, receiver.url, EndpointKind.teams)
    cycle = _quantify_a_bottleneck(session, owner)
    [pending] = deliveries(session)
    receiver.script(Reply(500, b"busy"), Reply(202, b"1"))
    start = utcnow()

    assert delivery.deliver(session, pending.id, local, start).status == DeliveryStatus.retry
    assert delivery.deliver(session, pending.id, local, start + timedelta(seconds=30)).status == (
        DeliveryStatus.delivered
    )
    # A repeated task or the sweep sends nothing more.
    assert delivery.deliver(session, pending.id, local, start + timedelta(days=1)).status is None

    first, second = receiver.received
    assert first.body == second.body
    assert "webhook-signature" not in second.headers
    sent = json.loads(second.body)
    assert sent["type"] == "message"
    [attachment] = sent["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["text"] == "Jetzt in Ist-Zustand"
    assert card["body"][1]["text"] == "Angebote dauern 9 Tage"
    assert {"title": "Ausgangswert", "value": "1.234,5 Tage"} in card["body"][2]["facts"]
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "In Engpass öffnen",
            "url": f"http://engpass.test/o/{the_org.slug}/cycles/{cycle.id}/",
        }
    ]
    [done] = deliveries(session)
    session.refresh(done)
    assert (done.status, done.attempts, done.last_status_code) == (DeliveryStatus.delivered, 2, 202)


def test_a_slack_message_in_english_and_a_404_given_up_with_slacks_reason(session, org, local, receiver):
    the_org, owner = org
    session.get(Organization, the_org.id).locale = "en"
    session.commit()
    _channel(session, local, receiver.url, EndpointKind.slack)
    _quantify_a_bottleneck(session, owner)
    [pending] = deliveries(session)
    receiver.script(Reply(404, b"channel_not_found"))

    assert delivery.deliver(session, pending.id, local).status == DeliveryStatus.failed
    assert delivery.deliver(session, pending.id, local, utcnow() + timedelta(days=1)).status is None

    [request] = receiver.received
    sent = json.loads(request.body)
    assert sent["text"] == "Now in Status quo: Angebote dauern 9 Tage"
    assert sent["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Now in Status quo", "emoji": False},
    }
    assert {"type": "mrkdwn", "text": "*Baseline*\n1,234.5 Tage"} in sent["blocks"][2]["fields"]
    assert sent["blocks"][3]["elements"][0]["text"]["text"] == "Open in Engpass"
    [given_up] = deliveries(session)
    session.refresh(given_up)
    assert (given_up.status, given_up.attempts, given_up.last_status_code) == (DeliveryStatus.failed, 1, 404)
    assert given_up.last_error == "HTTP 404: channel_not_found"


def test_a_429_from_slack_is_retried_and_a_chat_channel_hears_only_what_it_chose(session, org, local, receiver):
    _the_org, owner = org
    _channel(session, local, receiver.url, EndpointKind.slack, events=("decision.recorded",))
    _quantify_a_bottleneck(session, owner)
    # Only a decision would reach this channel: the stage change was not written for it.
    assert deliveries(session) == []
    with pytest.raises(endpoints.InvalidEndpoint) as refused:
        _channel(session, local, receiver.url, EndpointKind.teams, events=("measurement.created",))
    assert refused.value.field == "events"
    session.rollback()

    _channel(session, local, receiver.url, EndpointKind.slack, events=("cycle.stage_changed",))
    _quantify_a_bottleneck(session, owner)
    [pending] = deliveries(session)
    receiver.script(Reply(429, b"rate_limited", {"Retry-After": "60"}), Reply(200, b"ok"))
    start = utcnow()
    first = delivery.deliver(session, pending.id, local, start)
    assert (first.status, first.next_attempt_at) == (DeliveryStatus.retry, start + timedelta(seconds=60))
    assert delivery.deliver(session, pending.id, local, start + timedelta(seconds=60)).status == (
        DeliveryStatus.delivered
    )
    assert len(receiver.received) == 2
