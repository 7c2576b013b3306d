"""A worker process killed with SIGKILL in the middle of a delivery, against real PostgreSQL, a private Redis
and the local HTTP receiver: the receiver got the request, the worker never saw the answer. After the lease
(set into the past here instead of waiting two minutes) the sweep hands the delivery to a second worker,
which sends it once more with the same ``webhook-id``; the delivery is recorded as delivered once and nothing
is sent after that. A Teams channel takes the same path with its card. See docs/webhooks.md."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import uuid4

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from engpass import tenancy
from engpass.accounts.service import sign_up
from engpass.db import make_engine
from engpass.outbox.publisher import CeleryPublisher
from engpass.task_names import DELIVER_WEBHOOK, SWEEP_WEBHOOKS
from engpass.webhooks import endpoints
from engpass.webhooks.delivery import DeliveryStatus
from engpass.webhooks.models import EndpointKind, WebhookDelivery
from tests.support.cycles import scaled_quoting_cycle
from tests.support.faults import kill_group, private_redis, require_services
from tests.support.webhook_receiver import Receiver, Reply, running_receiver
from tests.support.workers import running_worker, wait_for


@dataclass
class Company:
    org_id: int
    user_id: int
    secret: str
    delivery_id: int


@pytest.fixture
def redis_server(tmp_path):
    with private_redis(tmp_path) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def worker_settings(settings) -> dict[str, str]:
    """The operator allows the receiver on loopback over plain HTTP; the secret key unseals what the test
    sealed."""
    settings.webhooks_allow_private_targets = True
    settings.webhooks_allow_http = True
    return {
        "ENGPASS_SECRET_KEY": settings.secret_key,
        "ENGPASS_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "1",
        "ENGPASS_WEBHOOKS_ALLOW_HTTP": "1",
    }


def _company(engine, settings, url: str, kind: EndpointKind) -> Company:
    """A company with an endpoint (or channel) for decisions and a decided cycle, committed: one pending
    delivery."""
    tag = uuid4().hex[:8]
    with Session(engine, expire_on_commit=False) as s:
        user, org = sign_up(
            s, name="Sabine", email=f"hook-{tag}@example.com", password="x" * 12, company=f"Haken {tag}"
        )
        s.commit()
        with tenancy.tenant_context(s, org.id):
            _endpoint, secret = endpoints.create_endpoint(
                s, endpoints.EndpointInput(url, "Team", ["decision.recorded"], True, kind), settings, user.id
            )
            scaled_quoting_cycle(s, user)
            s.commit()
            [delivery_id] = s.scalars(select(WebhookDelivery.id))
        return Company(org.id, user.id, secret or "", delivery_id)


def _delivery(engine, company: Company) -> WebhookDelivery:
    with Session(engine) as s, tenancy.tenant_context(s, company.org_id):
        return s.get_one(WebhookDelivery, company.delivery_id)


@pytest.mark.parametrize("kind", [EndpointKind.webhook, EndpointKind.teams], ids=["webhook", "teams"])
def test_a_worker_killed_mid_delivery_sends_it_once_more_with_the_same_id(
    app_context, tmp_path, databases, live_engine, settings, worker_settings, redis_server, receiver, kind
):
    require_services(databases)
    company = _company(live_engine, settings, receiver.url, kind)
    answer = threading.Event()
    receiver.script(Reply(hold=answer), Reply())
    publish = CeleryPublisher(redis_server.url)
    owner_engine = make_engine(databases["owner"])
    try:
        started = dict(redis_url=redis_server.url, settings=worker_settings)
        with running_worker(tmp_path, databases, pool="prefork", name="a", **started) as a:
            publish(DELIVER_WEBHOOK, {"org_id": company.org_id, "delivery_id": company.delivery_id}, "deliver-1")
            # Killed before the transport's five-second read timeout: the request arrived, no answer came back.
            wait_for(lambda: len(receiver.received) == 1, "the receiver to hold the first attempt", worker=a)
            kill_group(a.process)
        answer.set()
        held = _delivery(live_engine, company)
        assert (held.status, held.attempts) == (DeliveryStatus.delivering, 1), "the dead worker still holds it"

        with owner_engine.begin() as conn:
            conn.execute(
                text("UPDATE webhook_deliveries SET lease_until = now() - interval '1 second' WHERE id = :id"),
                {"id": company.delivery_id},
            )
        with running_worker(tmp_path, databases, name="b", **started) as b:
            publish(SWEEP_WEBHOOKS, {}, "sweep-1")
            wait_for(
                lambda: _delivery(live_engine, company).status == DeliveryStatus.delivered,
                "the second worker to deliver it",
                worker=b,
            )
            publish(SWEEP_WEBHOOKS, {}, "sweep-2")
            wait_for(lambda: b.successes("sweep-2"), "the sweep after the delivery", worker=b)
            publish(DELIVER_WEBHOOK, {"org_id": company.org_id, "delivery_id": company.delivery_id}, "deliver-2")
            assert wait_for(lambda: b.successes("deliver-2"), "a doubled task message", worker=b) == ["None"]

        done = _delivery(live_engine, company)
        assert (done.status, done.attempts, done.last_error) == (DeliveryStatus.delivered, 2, None)
        # Exactly two: sent again once, and never after it was recorded.
        first, second = receiver.received
        assert first.body == second.body
        if kind == EndpointKind.webhook:
            assert first.headers["webhook-id"] == second.headers["webhook-id"], "the receiver can drop the repeat"
            for request in (first, second):
                assert Webhook(company.secret).verify(request.body, request.headers)["type"] == "decision.recorded"
        else:
            assert "webhook-signature" not in first.headers
            assert json.loads(first.body)["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    finally:
        answer.set()
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM organizations WHERE id = :id"), {"id": company.org_id})
            conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": company.user_id})
        owner_engine.dispose()
