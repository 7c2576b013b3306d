"""Teams and Slack channels over the API: ``kind`` on create, no secret, only the chat events, 422 on bad input,
and another organization's channel as a missing one."""

from __future__ import annotations

import pytest

from engpass import tenancy
from engpass.webhooks.models import EndpointKind, WebhookEndpoint
from tests.support.api import bearer, make_token

PUBLIC_URL = "https://93.184.215.14/services/T0/B0/x"


@pytest.fixture
def owner_token(session, make_user, make_org):
    owner = make_user()
    org = make_org("Hook GmbH", owner=owner)
    return org, make_token(session, org, owner)


def test_a_slack_channel_is_created_without_a_secret_and_keeps_its_kind(client, owner_token):
    _org, token = owner_token
    created = client.post(
        "/api/v1/webhooks",
        json={"kind": "slack", "url": PUBLIC_URL, "events": ["decision.recorded", "cycle.stage_changed"]},
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    assert created.json["kind"] == "slack" and created.json["secret"] is None
    assert created.json["events"] == ["cycle.stage_changed", "decision.recorded"]
    one = client.get(created.headers["Location"], headers=bearer(token))
    assert one.json["kind"] == "slack"
    webhook_id = created.json["id"]
    assert (
        client.post(f"/api/v1/webhooks/{webhook_id}/rotate-secret", json={}, headers=bearer(token)).status_code == 404
    )
    refused = client.patch(f"/api/v1/webhooks/{webhook_id}", json={"events": ["cycle.created"]}, headers=bearer(token))
    assert refused.status_code == 422 and "events" in [error["field"] for error in refused.json["errors"]]
    # Without a kind it stays a signed webhook.
    plain = client.post(
        "/api/v1/webhooks", json={"url": PUBLIC_URL, "events": ["cycle.created"]}, headers=bearer(token)
    )
    assert plain.json["kind"] == "webhook" and plain.json["secret"].startswith("whsec_")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "teams", "url": "https://127.0.0.1/hook", "events": ["decision.recorded"]}, "url"),
        ({"kind": "teams", "url": PUBLIC_URL, "events": ["measurement.created"]}, "events"),
        ({"kind": "irc", "url": PUBLIC_URL, "events": ["decision.recorded"]}, "kind"),
    ],
)
def test_bad_channels_are_a_422_naming_the_field(client, owner_token, body, field):
    _org, token = owner_token
    response = client.post("/api/v1/webhooks", json=body, headers=bearer(token))
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json["errors"]]
    assert client.get("/api/v1/webhooks", headers=bearer(token)).json["items"] == []


def test_another_organizations_channel_is_missing(client, session, make_user, make_org):
    other = make_org("Fremd GmbH", owner=make_user())
    with tenancy.tenant_context(session, other.id):
        channel = WebhookEndpoint(
            url=PUBLIC_URL, kind=EndpointKind.teams, events=["decision.recorded"], secret_sealed="sealed"
        )
        session.add(channel)
        session.commit()
    owner = make_user()
    org = make_org("Hook GmbH", owner=owner)
    token = make_token(session, org, owner)
    assert client.get(f"/api/v1/webhooks/{channel.id}", headers=bearer(token)).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{channel.id}", headers=bearer(token)).status_code == 404


def test_a_teams_channel_takes_the_overdue_list_and_the_weekly_summary(client, owner_token):
    _org, token = owner_token
    created = client.post(
        "/api/v1/webhooks",
        json={"kind": "teams", "url": PUBLIC_URL, "events": ["digest.weekly", "reminders.overdue"]},
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    assert created.json["events"] == ["reminders.overdue", "digest.weekly"]
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert {"reminders.overdue", "digest.weekly"} <= {
        value for found in schema.values() for value in found.get("enum", [])
    }
