"""Webhook deliveries against a local HTTP receiver: exactly once under retries and a worker that dies,
signatures verified by the independent ``standardwebhooks`` package, rotation, refusal of private targets."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update
from standardwebhooks.webhooks import Webhook

from engpass import task_names, tenancy
from engpass.cycles import service as cycles
from engpass.cycles.models import Category
from engpass.db import utcnow
from engpass.outbox.models import OutboxMessage
from engpass.webhooks import delivery, endpoints
from engpass.webhooks.delivery import LEASE, MAX_ATTEMPTS, MAX_DELAY, DeliveryStatus
from engpass.webhooks.models import WebhookDelivery, WebhookEvent
from tests.support.webhook_receiver import Reply, running_receiver, self_signed
from tests.support.webhooks import add_endpoint, deliveries


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def local(settings):
    """The operator allows the test's receiver on loopback over plain HTTP."""
    settings.webhooks_allow_private_targets = True
    settings.webhooks_allow_http = True
    return settings


@pytest.fixture
def org(app_context, session, make_user, make_org):
    owner = make_user(name="Sabine")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        yield org, owner


def _name_a_bottleneck(session, owner, title="Angebote dauern 9 Tage"):
    cycle = cycles.create_cycle(
        session,
        title=title,
        category=Category.quoting,
        why="Größter Hebel",
        owner_id=owner.id,
        actor_id=owner.id,
        confirm_second_open=True,
    )
    session.commit()
    return cycle


def _verified(secret, request):
    return Webhook(secret).verify(request.body, request.headers)


def test_a_new_cycle_is_delivered_once_and_signed(session, org, local, receiver):
    _org, owner = org
    _endpoint, secret = add_endpoint(session, local, receiver.url, ["cycle.created"])
    cycle = _name_a_bottleneck(session, owner)
    [pending] = deliveries(session)
    assert (
        session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.task_name == task_names.DELIVER_WEBHOOK)
        )
        == 1
    )

    assert delivery.deliver(session, pending.id, local).status == DeliveryStatus.delivered
    # A second delivery of the same task (a redelivered message, the sweep) sends nothing.
    assert delivery.deliver(session, pending.id, local).status is None
    assert delivery.deliver(session, pending.id, local, utcnow() + timedelta(days=1)).status is None

    [request] = receiver.received
    payload = _verified(secret, request)
    event = session.scalars(select(WebhookEvent)).one()
    assert request.headers["webhook-id"] == event.message_id
    assert request.headers["content-type"] == "application/json"
    assert payload["type"] == "cycle.created"
    assert payload["data"]["id"] == cycle.id
    assert payload["data"]["title"] == "Angebote dauern 9 Tage"
    assert payload["data"]["stage"] == "bottleneck"
    assert payload["data"]["web_url"] == f"http://engpass.test/o/{_org.slug}/cycles/{cycle.id}/"
    [done] = deliveries(session)
    session.refresh(done)
    assert (done.status, done.attempts, done.last_status_code, done.last_response) == ("delivered", 1, 200, "ok")
    assert done.delivered_at is not None


def test_retries_after_500_and_429_honouring_retry_after_then_delivered_with_one_id(session, org, local, receiver):
    _org, owner = org
    _endpoint, secret = add_endpoint(session, local, receiver.url, ["cycle.created"])
    _name_a_bottleneck(session, owner)
    [pending] = deliveries(session)
    receiver.script(Reply(500, b"upstream down"), Reply(429, b"slow down", {"Retry-After": "600"}), Reply(204, b""))
    start = utcnow()

    first = delivery.deliver(session, pending.id, local, start)
    assert first.status == DeliveryStatus.retry
    assert first.next_attempt_at == start + timedelta(seconds=30)
    # Not due yet: nothing is sent.
    assert delivery.deliver(session, pending.id, local, start + timedelta(seconds=29)).status is None

    second = delivery.deliver(session, pending.id, local, start + timedelta(seconds=30))
    assert second.status == DeliveryStatus.retry
    # The receiver's Retry-After (10 minutes) outweighs the backoff (1 minute).
    assert second.next_attempt_at == start + timedelta(seconds=30 + 600)
    session.refresh(pending)
    assert (pending.last_status_code, pending.last_response, pending.last_error) == (429, "slow down", "HTTP 429")

    assert delivery.deliver(session, pending.id, local, start + timedelta(seconds=629)).status is None
    third = delivery.deliver(session, pending.id, local, start + timedelta(seconds=630))
    assert third.status == DeliveryStatus.delivered
    assert len(set(receiver.ids())) == 1 and len(receiver.ids()) == 3
    for request in receiver.received:
        _verified(secret, request)
    session.refresh(pending)
    assert (pending.status, pending.attempts, pending.last_status_code) == ("delivered", 3, 204)


def test_a_network_error_is_retried(session, org, local, receiver):
    _org, owner = org
    add_endpoint(session, local, "http://127.0.0.1:9/closed", ["cycle.created"])
    _name_a_bottleneck(session, owner)
    [pending] = deliveries(session)
    result = delivery.deliver(session, pending.id, local)
    assert result.status == DeliveryStatus.retry
    session.refresh(pending)
    assert pending.last_status_code is None and "Error" in pending.last_error


def test_a_400_is_given_up_at_once_with_the_reason(session, org, local, receiver):
    _org, owner = org
    add_endpoint(session, local, receiver.url, ["cycle.created"])
    _name_a_bottleneck(session, owner)
    [pending] = deliveries(session)
    receiver.script(Reply(400, b'{"error": "unknown field"}'))
    assert delivery.deliver(session, pending.id, local).status == DeliveryStatus.failed
    assert delivery.deliver(session, pending.id, local, utcnow() + timedelta(days=1)).status is None
    assert len(receiver.received) == 1
    session.refresh(pending)
    assert pending.status == "failed" and pending.last_error == "HTTP 400: not retried"
    assert pending.last_response == '{"error": "unknown field"}'


def test_gives_up_after_the_last_attempt(session, org, local, receiver):
    _org, owner = org
    add_endpoint(session, local, receiver.url, ["cycle.created"])
    _name_a_bottleneck(session, owner)
    [pending] = deliveries(session)
    receiver.script(Reply(503, b"maintenance"))
    now = utcnow()
    for _attempt in range(MAX_ATTEMPTS):
        result = delivery.deliver(session, pending.id, local, now)
        now += MAX_DELAY
    assert result.status == DeliveryStatus.failed
    assert len(receiver.received) == MAX_ATTEMPTS
    session.refresh(pending)
    assert pending.last_error == f"gave up after {MAX_ATTEMPTS} attempts: HTTP 503"


def test_a_worker_killed_mid_delivery_is_taken_over_after_the_lease_and_recorded_once(session, org, local, receiver):
    _org, owner = org
    _endpoint, secret = add_endpoint(session, local, receiver.url, ["cycle.created"])
    _name_a_bottleneck(session, owner)
    [pending] = deliveries(session)
    start = utcnow()
    # The first worker claims, posts — the receiver gets it — and dies before it records the answer.
    held = delivery.claim(session, pending.id, start)
    outcome = delivery.attempt(session, held, local, start)
    assert outcome.status == DeliveryStatus.delivered and len(receiver.received) == 1
    dead_claim_attempts = held.attempts

    # While its lease runs, nobody else sends it.
    assert delivery.deliver(session, pending.id, local, start + LEASE - timedelta(seconds=1)).status is None
    assert delivery.due(session, start + LEASE - timedelta(seconds=1)) == []
    # The lease expired: the sweep finds it, a second worker sends it once more with the same id.
    after = start + LEASE
    assert delivery.due(session, after) == [pending.id]
    assert delivery.deliver(session, pending.id, local, after).status == DeliveryStatus.delivered
    assert receiver.ids() == [receiver.ids()[0]] * 2
    for request in receiver.received:
        _verified(secret, request)

    # The dead worker's late record (had it only been slow) changes nothing: the success is recorded once.
    session.refresh(pending)
    assert (pending.status, pending.attempts) == ("delivered", 2)
    dead_worker = SimpleNamespace(id=pending.id, attempts=dead_claim_attempts)
    assert delivery.record_outcome(session, dead_worker, outcome, after).status is None
    session.refresh(pending)
    assert (pending.status, pending.attempts) == ("delivered", 2)
    assert delivery.deliver(session, pending.id, local, after + LEASE).status is None
    assert len(receiver.received) == 2


def test_both_secrets_sign_during_the_rotation_overlap_then_only_the_new_one(session, org, local, receiver):
    _org, owner = org
    endpoint, old_secret = add_endpoint(session, local, receiver.url, ["cycle.created"])
    new_secret = endpoints.rotate_secret(session, endpoint, local, owner.id)
    session.commit()
    assert new_secret != old_secret and new_secret.startswith("whsec_")
    _name_a_bottleneck(session, owner)
    [pending] = deliveries(session)
    assert delivery.deliver(session, pending.id, local).status == DeliveryStatus.delivered
    [request] = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert _verified(old_secret, request) == _verified(new_secret, request)

    later = utcnow() + endpoints.ROTATION_OVERLAP + timedelta(seconds=1)
    assert endpoints.secrets_in_use(endpoint, local.secret_key, later) == [new_secret]
    assert endpoints.secrets_in_use(endpoint, local.secret_key) == [new_secret, old_secret]


def test_the_secret_is_sealed_at_rest(session, org, local, receiver):
    endpoint, secret = add_endpoint(session, local, receiver.url, ["cycle.created"])
    assert secret not in endpoint.secret_sealed
    assert endpoints.secrets_in_use(endpoint, "another-secret-key") == []


def test_a_target_that_became_private_is_refused_at_delivery(session, org, local, receiver):
    _org, owner = org
    add_endpoint(session, local, receiver.url, ["cycle.created"])
    _name_a_bottleneck(session, owner)
    [pending] = deliveries(session)
    local.webhooks_allow_private_targets = False
    assert delivery.deliver(session, pending.id, local).status == DeliveryStatus.failed
    assert receiver.received == []
    session.refresh(pending)
    assert pending.last_error == "target refused: 127.0.0.1 resolves to 127.0.0.1 (loopback)"


def test_nothing_is_written_without_a_subscribed_endpoint_and_nothing_survives_a_rollback(
    session, org, local, receiver
):
    _org, owner = org
    _name_a_bottleneck(session, owner, "Ohne Empfänger")
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    add_endpoint(session, local, receiver.url, ["measurement.created"])
    _name_a_bottleneck(session, owner, "Nicht abonniert")
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0

    add_endpoint(session, local, receiver.url, ["cycle.created"])
    cycles.create_cycle(
        session,
        title="Verworfen",
        category=Category.quoting,
        why="x",
        owner_id=owner.id,
        actor_id=owner.id,
        confirm_second_open=True,
    )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    assert deliveries(session) == []


def test_a_disabled_endpoint_gets_nothing_and_a_redelivery_sends_again_with_the_same_id(session, org, local, receiver):
    _org, owner = org
    endpoint, secret = add_endpoint(session, local, receiver.url, ["cycle.created", "cycle.deleted"])
    cycle = _name_a_bottleneck(session, owner)
    [first] = deliveries(session)
    receiver.script(Reply(410, b"gone"))
    assert delivery.deliver(session, first.id, local).status == DeliveryStatus.failed
    session.refresh(first)

    delivery.redeliver(session, first, owner.id)
    session.commit()
    receiver.script(Reply(200))
    assert delivery.deliver(session, first.id, local).status == DeliveryStatus.delivered
    assert len(receiver.ids()) == 2 and len(set(receiver.ids())) == 1

    endpoints.update_endpoint(
        session, endpoint, endpoints.EndpointInput(endpoint.url, "", endpoint.events, False), local, owner.id
    )
    cycles.delete_cycle(session, cycle, owner.id)
    session.commit()
    assert len(deliveries(session)) == 1


def test_the_payload_of_a_deleted_cycle_keeps_its_last_state(session, org, local, receiver):
    _org, owner = org
    _endpoint, secret = add_endpoint(session, local, receiver.url, ["cycle.deleted"])
    cycle = _name_a_bottleneck(session, owner, "Wird gelöscht")
    cycle_id = cycle.id
    cycles.delete_cycle(session, cycle, owner.id)
    session.commit()
    [pending] = deliveries(session)
    assert delivery.deliver(session, pending.id, local).status == DeliveryStatus.delivered
    payload = json.loads(receiver.received[0].body)
    assert payload["type"] == "cycle.deleted"
    assert payload["data"]["id"] == cycle_id and payload["data"]["title"] == "Wird gelöscht"


def test_the_worker_task_schedules_its_retry_and_the_sweep_finds_what_was_lost(
    app, celery, session, org, local, receiver, monkeypatch
):
    _org, owner = org
    add_endpoint(session, local, receiver.url, ["cycle.created"])
    _name_a_bottleneck(session, owner)
    [pending] = deliveries(session)
    sent = []
    monkeypatch.setattr(
        "workers.tasks.webhooks.current_app",
        SimpleNamespace(send_task=lambda name, kwargs, countdown=None: sent.append((name, kwargs, countdown))),
    )
    receiver.script(Reply(503, b"busy"), Reply(200))
    deliver = celery.tasks[task_names.DELIVER_WEBHOOK]
    kwargs = {"org_id": _org.id, "delivery_id": pending.id}
    assert deliver.apply(kwargs=kwargs, throw=True).get() == "retry"
    [(name, retry_kwargs, countdown)] = sent
    assert (name, retry_kwargs) == (task_names.DELIVER_WEBHOOK, kwargs) and 25 <= countdown <= 30
    # The retry's message is lost; once it is due, the sweep sends the delivery again.
    assert deliver.apply(kwargs=kwargs, throw=True).get() is None
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id == pending.id).values(next_attempt_at=utcnow()))
    session.commit()
    tenancy.clear()
    assert celery.tasks[task_names.SWEEP_WEBHOOKS].apply(throw=True).get() == 1
    assert sent[-1] == (task_names.DELIVER_WEBHOOK, kwargs, None)
    assert deliver.apply(kwargs=kwargs, throw=True).get() == "delivered"
    assert len(receiver.received) == 2
    assert celery.conf.beat_schedule["webhooks-sweep"]["task"] == task_names.SWEEP_WEBHOOKS


def test_https_is_verified_against_the_url_s_host_while_connecting_to_the_checked_address(
    session, org, local, tmp_path, monkeypatch
):
    _org, owner = org
    trusted = self_signed(tmp_path, "127.0.0.1")
    # The certificate is the only authority the client trusts (OpenSSL reads SSL_CERT_FILE for its defaults).
    monkeypatch.setenv("SSL_CERT_FILE", str(trusted[0]))
    local.webhooks_allow_http = False
    with running_receiver(tls=trusted) as receiver:
        _endpoint, secret = add_endpoint(session, local, receiver.url, ["cycle.created"])
        _name_a_bottleneck(session, owner)
        [pending] = deliveries(session)
        assert delivery.deliver(session, pending.id, local).status == DeliveryStatus.delivered
        _verified(secret, receiver.received[0])

    other = self_signed(tmp_path, "other.example")
    monkeypatch.setenv("SSL_CERT_FILE", str(other[0]))
    with running_receiver(tls=other) as receiver:
        add_endpoint(session, local, receiver.url, ["cycle.created"])
        _name_a_bottleneck(session, owner, "Zweiter")
        waiting = [d for d in deliveries(session) if d.status == DeliveryStatus.pending]
        # A certificate for another name is a failed connection: tried again, nothing delivered.
        assert {delivery.deliver(session, d.id, local).status for d in waiting} == {DeliveryStatus.retry}
        assert receiver.received == []
