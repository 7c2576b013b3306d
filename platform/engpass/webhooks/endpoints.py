"""Managing an organization's webhook endpoints: create (the secret shown once), change, rotate, delete.
A Teams or Slack channel is an endpoint of that ``kind``: it takes only the chat event types and its secret is
never shown (nothing signs its messages). The kind is chosen once, when the endpoint is added.

Every change is audited. The URL is checked when it is saved (``check_url``) and again at every delivery:
a name may resolve elsewhere later.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, scoped_session

from engpass.audit.service import record
from engpass.db import utcnow
from engpass.sealed import seal, unseal
from engpass.settings import Settings
from engpass.webhooks import signing
from engpass.webhooks.events import CHAT_EVENT_TYPES, EVENT_TYPES
from engpass.webhooks.models import CHAT_KINDS, DESCRIPTION_MAX, URL_MAX, EndpointKind, WebhookEndpoint, as_utc
from engpass.webhooks.targets import TargetRefused, TargetUnresolved, resolve

PURPOSE = "webhook"
# How long the previous secret keeps signing beside a new one: receivers switch within a day.
ROTATION_OVERLAP = timedelta(hours=24)

SessionLike = Session | scoped_session[Session]


@dataclass(frozen=True)
class EndpointInput:
    url: str
    description: str
    events: list[str]
    enabled: bool
    kind: EndpointKind = EndpointKind.webhook


class InvalidEndpoint(ValueError):
    """What is wrong with an endpoint's input, by field (English; the forms and the API translate their own)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_url(url: str, settings: Settings) -> None:
    """InvalidEndpoint("url", …) for a URL a delivery would refuse: wrong scheme, or a host that does not
    resolve or resolves to an address off limits (docs/webhooks.md)."""
    if len(url) > URL_MAX:
        raise InvalidEndpoint("url", f"at most {URL_MAX} characters")
    try:
        resolve(
            url,
            allow_http=settings.webhooks_allow_http,
            allow_private=settings.webhooks_allow_private_targets,
        )
    except (TargetRefused, TargetUnresolved) as exc:
        raise InvalidEndpoint("url", str(exc)) from None


def _checked(data: EndpointInput, settings: Settings) -> EndpointInput:
    url = data.url.strip()
    check_url(url, settings)
    unknown = sorted(set(data.events) - set(EVENT_TYPES))
    if unknown:
        raise InvalidEndpoint("events", f"unknown event types: {', '.join(unknown)}")
    if not data.events:
        raise InvalidEndpoint("events", "choose at least one event")
    if data.kind in CHAT_KINDS and not set(data.events) <= set(CHAT_EVENT_TYPES):
        raise InvalidEndpoint("events", f"a chat channel takes only: {', '.join(CHAT_EVENT_TYPES)}")
    events = [name for name in EVENT_TYPES if name in data.events]
    return EndpointInput(url, data.description.strip()[:DESCRIPTION_MAX], events, data.enabled, data.kind)


def endpoints(session: SessionLike) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)))


def create_endpoint(
    session: SessionLike, data: EndpointInput, settings: Settings, actor_id: int | None
) -> tuple[WebhookEndpoint, str | None]:
    """A new endpoint in the current organization and its secret, which is returned only here (None for a chat
    channel, whose messages are not signed)."""
    data = _checked(data, settings)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        url=data.url,
        kind=data.kind,
        description=data.description,
        events=data.events,
        enabled=data.enabled,
        secret_sealed=seal(PURPOSE, settings.secret_key, secret),
    )
    session.add(endpoint)
    session.flush()
    record(
        session,
        "webhook.created",
        actor_id=actor_id,
        object_type="webhook",
        object_id=endpoint.id,
        url=endpoint.url,
        events=endpoint.events,
    )
    return endpoint, None if endpoint.kind in CHAT_KINDS else secret


def update_endpoint(
    session: SessionLike, endpoint: WebhookEndpoint, data: EndpointInput, settings: Settings, actor_id: int | None
) -> dict[str, list[Any]]:
    # The kind was chosen when the endpoint was added; its rules hold for every change.
    data = _checked(replace(data, kind=endpoint.kind), settings)
    changes: dict[str, list[Any]] = {}
    for name in ("url", "description", "events", "enabled"):
        old, new = getattr(endpoint, name), getattr(data, name)
        if old != new:
            # The audit log shows the event types as the API names them, one line.
            changes[name] = [", ".join(old), ", ".join(new)] if name == "events" else [old, new]
            setattr(endpoint, name, new)
    if changes:
        record(
            session, "webhook.updated", actor_id=actor_id, object_type="webhook", object_id=endpoint.id, changes=changes
        )
    return changes


def delete_endpoint(session: SessionLike, endpoint: WebhookEndpoint, actor_id: int | None) -> None:
    record(
        session, "webhook.deleted", actor_id=actor_id, object_type="webhook", object_id=endpoint.id, url=endpoint.url
    )
    session.delete(endpoint)


def rotate_secret(
    session: SessionLike,
    endpoint: WebhookEndpoint,
    settings: Settings,
    actor_id: int | None,
    now: datetime | None = None,
) -> str:
    """A new secret, returned only here; the current one keeps signing beside it for ``ROTATION_OVERLAP``.
    A second rotation within the overlap drops the oldest secret: two at most sign a message."""
    now = now or utcnow()
    secret = signing.new_secret()
    endpoint.previous_secret_sealed = endpoint.secret_sealed
    endpoint.previous_secret_until = now + ROTATION_OVERLAP
    endpoint.secret_sealed = seal(PURPOSE, settings.secret_key, secret)
    record(
        session,
        "webhook.secret_rotated",
        actor_id=actor_id,
        object_type="webhook",
        object_id=endpoint.id,
        url=endpoint.url,
    )
    return secret


def secrets_in_use(endpoint: WebhookEndpoint, secret_key: str, now: datetime | None = None) -> list[str]:
    """The secrets that sign a message now, the newest first. A secret the app's key cannot unseal any more
    (the key was changed) signs nothing; with none left the delivery fails with that reason."""
    now = now or utcnow()
    sealed = [endpoint.secret_sealed]
    if (
        endpoint.previous_secret_sealed
        and endpoint.previous_secret_until
        and as_utc(endpoint.previous_secret_until) > now
    ):
        sealed.append(endpoint.previous_secret_sealed)
    return [secret for value in sealed if (secret := unseal(PURPOSE, secret_key, value)) is not None]
