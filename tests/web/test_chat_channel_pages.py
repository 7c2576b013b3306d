"""Adding a Teams or Slack channel on the webhooks page: no secret shown or rotatable, events a chat channel
cannot take and refused URLs as form errors, another organization's channel missing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engpass import tenancy
from engpass.webhooks.models import EndpointKind, WebhookEndpoint

PUBLIC_URL = "https://93.184.215.14/workflows/engpass"


def _text(response) -> str:
    return response.get_data(as_text=True).replace("\xa0", " ")


@pytest.fixture
def company(session, make_user, make_org, login):
    owner = make_user(name="Jürgen")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    login(owner)
    return org, owner


def _endpoints(session, org):
    with tenancy.tenant_context(session, org.id):
        return list(session.scalars(select(WebhookEndpoint)))


def test_an_admin_adds_a_teams_channel_without_a_secret(client, session, company):
    org, _owner = company
    base = f"/o/{org.slug}/settings/webhooks/"
    form = _text(client.get(base))
    assert "Microsoft-Teams-Kanal (Workflow-Webhook-URL)" in form and "Slack-Kanal (Incoming-Webhook-URL)" in form
    response = client.post(
        base,
        data={"kind": "teams", "url": PUBLIC_URL, "events": ["cycle.stage_changed", "decision.recorded"]}
        | {"enabled": "y"},
    )
    assert response.status_code == 201
    text = _text(response)
    assert "Der Kanal wurde hinzugefügt." in text and "whsec_" not in text
    [channel] = _endpoints(session, org)
    assert (channel.kind, channel.events) == (EndpointKind.teams, ["cycle.stage_changed", "decision.recorded"])
    page = _text(client.get(f"{base}{channel.id}"))
    assert "Microsoft-Teams-Kanal" in page and "Signaturgeheimnis" not in page
    assert client.post(f"{base}{channel.id}/rotate").status_code == 404
    # Saving the channel's settings keeps its kind.
    saved = client.post(f"{base}{channel.id}", data={"url": PUBLIC_URL, "events": ["decision.recorded"]})
    assert saved.status_code == 302
    session.expire_all()
    [channel] = _endpoints(session, org)
    assert (channel.kind, channel.events) == (EndpointKind.teams, ["decision.recorded"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "slack", "url": "https://10.0.0.1/services/T0/B0/x", "events": ["decision.recorded"]}, "private"),
        ({"kind": "slack", "url": PUBLIC_URL, "events": ["measurement.created"]}, "a chat channel takes only"),
        ({"kind": "irc", "url": PUBLIC_URL, "events": ["decision.recorded"]}, "Bitte wählen Sie Webhook, Teams"),
    ],
)
def test_bad_channels_are_form_errors_and_nothing_is_saved(client, session, company, data, message):
    org, _owner = company
    response = client.post(f"/o/{org.slug}/settings/webhooks/", data=data)
    assert response.status_code == 422
    assert message in _text(response)
    assert _endpoints(session, org) == []


def test_another_organizations_channel_is_missing(client, session, make_user, make_org, login):
    other = make_org("Fremd GmbH", owner=make_user(name="Fremd"))
    with tenancy.tenant_context(session, other.id):
        theirs = WebhookEndpoint(
            url=PUBLIC_URL, kind=EndpointKind.slack, events=["decision.recorded"], secret_sealed="sealed"
        )
        session.add(theirs)
        session.commit()
    owner = make_user(name="Jürgen")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    login(owner)
    base = f"/o/{org.slug}/settings/webhooks/{theirs.id}"
    assert client.get(base).status_code == 404
    assert client.post(base, data={"url": PUBLIC_URL, "events": ["decision.recorded"]}).status_code == 404
    assert client.post(f"{base}/delete").status_code == 404
    assert len(_endpoints(session, other)) == 1
