"""The webhook pages: create (secret shown once), refusals as form errors, edit, rotate, redeliver, delete,
other tenants' endpoints, and the delivery log's queries."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from engpass import task_names, tenancy
from engpass.audit.models import AuditEvent
from engpass.outbox.models import OutboxMessage
from engpass.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.support.webhooks import webhook_with_a_delivery

PUBLIC_URL = "https://93.184.215.14/engpass"


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


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(client, session, company):
    org, _owner = company
    base = f"/o/{org.slug}/settings/webhooks/"
    assert "Webhooks" in _text(client.get(f"/o/{org.slug}/settings"))
    response = client.post(
        base,
        data={"url": PUBLIC_URL, "description": "ERP", "events": ["cycle.created", "decision.recorded"]}
        | {"enabled": "y"},
    )
    assert response.status_code == 201
    secret = re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', _text(response)).group(1)
    [endpoint] = _endpoints(session, org)
    assert (endpoint.url, endpoint.description, endpoint.events, endpoint.enabled) == (
        PUBLIC_URL,
        "ERP",
        ["cycle.created", "decision.recorded"],
        True,
    )
    assert secret not in endpoint.secret_sealed
    # Shown once: the list and the endpoint's page never show it again.
    assert secret not in _text(client.get(base))
    page = client.get(f"{base}{endpoint.id}")
    assert page.status_code == 200 and secret not in _text(page)

    rotated = client.post(f"{base}{endpoint.id}/rotate")
    new_secret = re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', _text(rotated)).group(1)
    assert new_secret != secret
    with tenancy.tenant_context(session, org.id):
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["webhook.created", "webhook.secret_rotated"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.215.14/hook", "https://"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://10.0.0.1/hook", "private"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://[::ffff:192.168.0.1]/hook", "private"),
    ],
)
def test_refused_targets_are_form_errors_and_nothing_is_saved(client, session, company, url, message):
    org, _owner = company
    response = client.post(f"/o/{org.slug}/settings/webhooks/", data={"url": url, "events": ["cycle.created"]})
    assert response.status_code == 422
    text = _text(response)
    assert "Diese URL kann keine Webhooks empfangen" in text and message in text
    assert url in text
    assert _endpoints(session, org) == []


def test_no_event_chosen_is_a_form_error(client, session, company):
    org, _owner = company
    response = client.post(f"/o/{org.slug}/settings/webhooks/", data={"url": PUBLIC_URL})
    assert response.status_code == 422
    assert "Bitte wählen Sie mindestens ein Ereignis." in _text(response)


def test_edit_redeliver_and_delete(client, session, company):
    org, owner = company
    with tenancy.tenant_context(session, org.id):
        endpoint, delivery = webhook_with_a_delivery(session)
        session.commit()
        endpoint_id, delivery_id = endpoint.id, delivery.id
    base = f"/o/{org.slug}/settings/webhooks/{endpoint_id}"
    page = client.get(base)
    assert "HTTP 400" in _text(page) and "msg_walk" in _text(page)

    saved = client.post(base, data={"url": PUBLIC_URL + "/v2", "events": ["measurement.created"]})
    assert saved.status_code == 302
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        changed = session.get(WebhookEndpoint, endpoint_id)
        assert (changed.url, changed.events, changed.enabled) == (PUBLIC_URL + "/v2", ["measurement.created"], False)

    assert client.post(f"{base}/deliveries/{delivery_id}/redeliver").status_code == 302
    with tenancy.tenant_context(session, org.id):
        again = session.get(WebhookDelivery, delivery_id)
        session.refresh(again)
        assert (again.status, again.attempts) == (DeliveryStatus.pending, 0)
    queued = session.scalars(select(OutboxMessage).where(OutboxMessage.task_name == task_names.DELIVER_WEBHOOK)).all()
    assert [message.kwargs["delivery_id"] for message in queued] == [delivery_id]

    assert client.post(f"{base}/delete").status_code == 302
    assert _endpoints(session, org) == []
    with tenancy.tenant_context(session, org.id):
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_another_organizations_webhook_is_404_and_members_get_403(client, session, make_user, make_org, login):
    other_owner = make_user(name="Fremd")
    other = make_org("Fremd GmbH", owner=other_owner)
    with tenancy.tenant_context(session, other.id):
        endpoint, delivery = webhook_with_a_delivery(session)
        session.commit()
    owner, member = make_user(name="Jürgen"), make_user(name="Mia")
    org = make_org("Müller Metallbau GmbH", owner=owner, members={member: "member"})
    login(owner)
    base = f"/o/{org.slug}/settings/webhooks/{endpoint.id}"
    assert client.get(base).status_code == 404
    assert client.post(base, data={"url": PUBLIC_URL, "events": ["cycle.created"]}).status_code == 404
    assert client.post(f"{base}/rotate").status_code == 404
    assert client.post(f"{base}/deliveries/{delivery.id}/redeliver").status_code == 404
    assert client.post(f"{base}/delete").status_code == 404
    assert client.get(f"/o/{other.slug}/settings/webhooks/").status_code == 404
    assert len(_endpoints(session, other)) == 1

    client.post("/logout")
    login(member)
    assert client.get(f"/o/{org.slug}/settings/webhooks/").status_code == 403


def test_the_delivery_log_is_a_fixed_number_of_queries(client, session, company, count_queries):
    org, _owner = company
    with tenancy.tenant_context(session, org.id):
        endpoint, _delivery = webhook_with_a_delivery(session)
        session.commit()
    url = f"/o/{org.slug}/settings/webhooks/{endpoint.id}"
    client.get(url)
    with count_queries() as few:
        client.get(url)
    with tenancy.tenant_context(session, org.id):
        endpoint = session.get(WebhookEndpoint, endpoint.id)
        for _ in range(5):
            webhook_with_a_delivery(session, endpoint)
        session.commit()
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count
