"""The organization's webhook endpoints over the API: list, create (the secret in that answer only), read,
change, delete, rotate the secret, the delivery log and a manual redelivery — through ``webhooks.endpoints``
and ``webhooks.delivery``, the same rules and audit events as the pages. A refused URL is a 422 on ``url``;
another organization's endpoint or delivery a 404 like a missing one."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engpass import task_names
from engpass.api.blueprint import bp, endpoint
from engpass.api.problems import ApiProblem, invalid
from engpass.api.webhook_schemas import (
    DeliveryListSchema,
    DeliverySchema,
    EmptySchema,
    WebhookCreateSchema,
    WebhookListSchema,
    WebhookPatchSchema,
    WebhookSchema,
    WebhookSecretSchema,
)
from engpass.db import db
from engpass.organizations.permissions import Action
from engpass.outbox.service import enqueue
from engpass.webhooks import delivery, endpoints
from engpass.webhooks.models import EndpointKind, WebhookDelivery, WebhookEndpoint, WebhookEvent

TAG = "Webhooks"
FIELDS = ("id", "url", "kind", "description", "events", "enabled", "previous_secret_until", "created_at", "updated_at")


def _endpoint_or_404(webhook_id: int) -> WebhookEndpoint:
    found = db.session.get(WebhookEndpoint, webhook_id)
    if found is None:
        abort(404)
    return found


def _document(found: WebhookEndpoint) -> dict[str, Any]:
    return {name: getattr(found, name) for name in FIELDS} | {"kind": found.kind.value}


def _delivery_document(found: WebhookDelivery, event: WebhookEvent) -> dict[str, Any]:
    return {
        "id": found.id,
        "event_type": event.type,
        "message_id": event.message_id,
        "status": found.status.value,
        "attempts": found.attempts,
        "last_status_code": found.last_status_code,
        "last_response": found.last_response,
        "last_error": found.last_error,
        "next_attempt_at": found.next_attempt_at,
        "delivered_at": found.delivered_at,
        "created_at": found.created_at,
    }


def _saved(save: Any) -> Any:
    try:
        return save()
    except endpoints.InvalidEndpoint as exc:
        db.session.rollback()
        raise invalid(exc.field, _("This URL cannot receive webhooks: %(reason)s", reason=exc.message)) from None


@endpoint("/webhooks", "GET", Action.manage_webhooks, tag=TAG)
@bp.response(200, WebhookListSchema)
def list_webhooks() -> dict[str, Any]:
    """The organization's webhook endpoints, oldest first."""
    return {"items": [_document(found) for found in endpoints.endpoints(db.session)]}


@endpoint("/webhooks", "POST", Action.manage_webhooks, tag=TAG)
@bp.arguments(WebhookCreateSchema)
@bp.response(201, WebhookSecretSchema)
def create_webhook(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Add an endpoint. The answer carries its signing secret, which no later answer shows."""
    settings = current_app.extensions["engpass.settings"]
    given = endpoints.EndpointInput(
        data["url"], data["description"], data["events"], data["enabled"], EndpointKind(data["kind"])
    )
    found, secret = _saved(lambda: endpoints.create_endpoint(db.session, given, settings, g.api_user.id))
    db.session.commit()
    return _document(found) | {"secret": secret}, 201, {"Location": url_for("api.get_webhook", webhook_id=found.id)}


@endpoint("/webhooks/<int:webhook_id>", "GET", Action.manage_webhooks, tag=TAG)
@bp.response(200, WebhookSchema)
def get_webhook(webhook_id: int) -> dict[str, Any]:
    """One endpoint (without its secret)."""
    return _document(_endpoint_or_404(webhook_id))


@endpoint("/webhooks/<int:webhook_id>", "PATCH", Action.manage_webhooks, tag=TAG)
@bp.arguments(WebhookPatchSchema)
@bp.response(200, WebhookSchema)
def update_webhook(data: dict[str, Any], webhook_id: int) -> dict[str, Any]:
    """Change the URL, description, event types or whether it is active."""
    found = _endpoint_or_404(webhook_id)
    settings = current_app.extensions["engpass.settings"]
    given = endpoints.EndpointInput(
        data.get("url", found.url),
        data.get("description", found.description),
        data.get("events", found.events),
        data.get("enabled", found.enabled),
    )
    _saved(lambda: endpoints.update_endpoint(db.session, found, given, settings, g.api_user.id))
    db.session.commit()
    return _document(found)


@endpoint("/webhooks/<int:webhook_id>", "DELETE", Action.manage_webhooks, tag=TAG)
@bp.response(204)
def delete_webhook(webhook_id: int) -> tuple[str, int]:
    """Delete the endpoint with its delivery log."""
    endpoints.delete_endpoint(db.session, _endpoint_or_404(webhook_id), g.api_user.id)
    db.session.commit()
    return "", 204


@endpoint("/webhooks/<int:webhook_id>/rotate-secret", "POST", Action.manage_webhooks, tag=TAG)
@bp.arguments(EmptySchema)
@bp.response(200, WebhookSecretSchema)
def rotate_webhook_secret(_data: dict[str, Any], webhook_id: int) -> dict[str, Any]:
    """A new signing secret (in this answer only); the previous one keeps signing beside it for 24 hours. A Teams
    or Slack channel has no secret to rotate: 404."""
    found = _endpoint_or_404(webhook_id)
    if found.kind != EndpointKind.webhook:
        abort(404)
    secret = endpoints.rotate_secret(db.session, found, current_app.extensions["engpass.settings"], g.api_user.id)
    db.session.commit()
    return _document(found) | {"secret": secret}


@endpoint("/webhooks/<int:webhook_id>/deliveries", "GET", Action.manage_webhooks, tag=TAG)
@bp.response(200, DeliveryListSchema)
def list_webhook_deliveries(webhook_id: int) -> dict[str, Any]:
    """The endpoint's latest 50 deliveries, newest first."""
    found = _endpoint_or_404(webhook_id)
    return {"items": [_delivery_document(d, e) for d, e in delivery.log(db.session, found.id)]}


@endpoint(
    "/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver",
    "POST",
    Action.manage_webhooks,
    tag=TAG,
    errors=(409,),
)
@bp.arguments(EmptySchema)
@bp.response(202, DeliverySchema)
def redeliver_webhook(_data: dict[str, Any], webhook_id: int, delivery_id: int) -> tuple[dict[str, Any], int]:
    """Send a delivery again, with fresh attempts and the same webhook-id; 409 while it is being sent."""
    found = _endpoint_or_404(webhook_id)
    row = db.session.execute(
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == found.id)
    ).first()
    if row is None:
        abort(404)
    again, event = row
    try:
        delivery.redeliver(db.session, again, g.api_user.id)
    except delivery.NotRedeliverable:
        raise ApiProblem(409, _("This delivery is being sent right now. Try again in a minute.")) from None
    enqueue(db.session, task_names.DELIVER_WEBHOOK, delivery_id=again.id)
    db.session.commit()
    return _delivery_document(again, event), 202
