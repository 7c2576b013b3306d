"""Webhooks over the API: the secret in the creating answer only, refused URLs as 422, the delivery log,
redelivery, and another organization's endpoints as missing ones."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from engpass.organizations.models import Role
from tests.support.api import bearer, in_org, make_token
from tests.support.webhooks import webhook_with_a_delivery

PUBLIC_URL = "https://93.184.215.14/engpass"


@pytest.fixture
def owner_token(session, make_user, make_org):
    owner = make_user()
    org = make_org("Hook GmbH", owner=owner)
    return org, make_token(session, org, owner)


def test_create_read_change_rotate_and_delete(client, owner_token):
    _org, token = owner_token
    created = client.post(
        "/api/v1/webhooks",
        json={"url": PUBLIC_URL, "description": "ERP", "events": ["measurement.created", "cycle.created"]},
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    body = created.json
    assert body["secret"].startswith("whsec_") and Webhook(body["secret"])
    assert body["events"] == ["cycle.created", "measurement.created"] and body["enabled"] is True
    one = client.get(created.headers["Location"], headers=bearer(token))
    assert one.status_code == 200 and "secret" not in one.json
    assert [item["id"] for item in client.get("/api/v1/webhooks", headers=bearer(token)).json["items"]] == [body["id"]]

    changed = client.patch(f"/api/v1/webhooks/{body['id']}", json={"enabled": False}, headers=bearer(token))
    assert changed.status_code == 200 and changed.json["enabled"] is False and changed.json["url"] == PUBLIC_URL

    rotated = client.post(f"/api/v1/webhooks/{body['id']}/rotate-secret", json={}, headers=bearer(token))
    assert rotated.status_code == 200
    assert rotated.json["secret"] != body["secret"] and rotated.json["previous_secret_until"] is not None

    assert client.delete(f"/api/v1/webhooks/{body['id']}", headers=bearer(token)).status_code == 204
    assert client.get(f"/api/v1/webhooks/{body['id']}", headers=bearer(token)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://127.0.0.1/hook", "events": ["cycle.created"]}, "url"),
        ({"url": "https://[::ffff:10.0.0.1]/hook", "events": ["cycle.created"]}, "url"),
        ({"url": "http://93.184.215.14/hook", "events": ["cycle.created"]}, "url"),
        ({"url": PUBLIC_URL, "events": []}, "events"),
        ({"url": PUBLIC_URL, "events": ["cycle.renamed"]}, "events.0"),
        ({"url": PUBLIC_URL}, "events"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, owner_token, body, field):
    _org, token = owner_token
    response = client.post("/api/v1/webhooks", json=body, headers=bearer(token))
    assert response.status_code == 422, response.text
    assert response.mimetype == "application/problem+json"
    assert field in [error["field"] for error in response.json["errors"]]
    assert client.get("/api/v1/webhooks", headers=bearer(token)).json["items"] == []


def test_the_delivery_log_and_a_redelivery(client, session, owner_token):
    org, token = owner_token
    endpoint, delivery = in_org(session, org, webhook_with_a_delivery)
    log = client.get(f"/api/v1/webhooks/{endpoint.id}/deliveries", headers=bearer(token))
    assert log.status_code == 200
    [entry] = log.json["items"]
    assert (entry["id"], entry["status"], entry["last_error"]) == (delivery.id, "failed", "HTTP 400")
    again = client.post(
        f"/api/v1/webhooks/{endpoint.id}/deliveries/{delivery.id}/redeliver", json={}, headers=bearer(token)
    )
    assert again.status_code == 202 and again.json["status"] == "pending" and again.json["attempts"] == 0
    assert again.json["message_id"] == entry["message_id"]


def test_members_may_not_and_other_organizations_webhooks_are_missing(client, session, make_user, make_org):
    other_owner = make_user()
    other = make_org("Fremd GmbH", owner=other_owner)
    theirs, their_delivery = in_org(session, other, webhook_with_a_delivery)
    owner, member = make_user(), make_user()
    org = make_org("Hook GmbH", owner=owner, members={member: Role.member})
    token = make_token(session, org, owner)
    for method, url in [
        ("GET", f"/api/v1/webhooks/{theirs.id}"),
        ("PATCH", f"/api/v1/webhooks/{theirs.id}"),
        ("DELETE", f"/api/v1/webhooks/{theirs.id}"),
        ("POST", f"/api/v1/webhooks/{theirs.id}/rotate-secret"),
        ("GET", f"/api/v1/webhooks/{theirs.id}/deliveries"),
        ("POST", f"/api/v1/webhooks/{theirs.id}/deliveries/{their_delivery.id}/redeliver"),
    ]:
        body = {"description": "x"} if method == "PATCH" else {}
        kwargs = {} if method in ("GET", "DELETE") else {"json": body}
        assert client.open(url, method=method, headers=bearer(token), **kwargs).status_code == 404, (method, url)
    assert client.get("/api/v1/webhooks", headers=bearer(token)).json["items"] == []
    assert client.get("/api/v1/webhooks", headers=bearer(make_token(session, org, member))).status_code == 403
