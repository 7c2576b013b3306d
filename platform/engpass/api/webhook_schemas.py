"""The webhooks' documents in the API: an endpoint (its secret only when it was just made), a delivery."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engpass.api.schema_fields import UtcDateTime, code_out, text
from engpass.webhooks.events import EVENT_TYPES, EventType
from engpass.webhooks.models import DESCRIPTION_MAX, URL_MAX, DeliveryStatus, EndpointKind

URL_HELP = (
    "An HTTPS URL (plain HTTP only where the operator allows it). A host that does not resolve, or resolves to a "
    "loopback, private, link-local or otherwise non-public address, is refused with 422 (docs/webhooks.md)."
)


def _events(**kwargs: Any) -> fields.List:
    return fields.List(
        code_out(EventType),
        validate=validate.Length(min=1, max=len(EVENT_TYPES)),
        metadata={"description": "The event types sent to this URL.", "uniqueItems": True},
        **kwargs,
    )


KIND_HELP = (
    "webhook: signed JSON per Standard Webhooks; teams: a Microsoft Teams workflow webhook URL (Adaptive Card); "
    "slack: a Slack incoming webhook URL (Block Kit). Chat channels take only cycle.stage_changed and "
    "decision.recorded, in the organization's language, unsigned. Fixed when the endpoint is added."
)


class WebhookCreateSchema(Schema):
    url = text(URL_MAX, blank=False, required=True, metadata={"description": URL_HELP})
    kind = code_out(EndpointKind, load_default="webhook", metadata={"description": KIND_HELP})
    description = text(DESCRIPTION_MAX, load_default="")
    events = _events(required=True)
    enabled = fields.Boolean(load_default=True)


class WebhookPatchSchema(Schema):
    """Any subset of the endpoint's fields."""

    class Meta:
        json_schema: dict[str, Any] = {
            "anyOf": [{"required": [name]} for name in ("url", "description", "events", "enabled")]
        }

    url = text(URL_MAX, blank=False, metadata={"description": URL_HELP})
    description = text(DESCRIPTION_MAX)
    events = _events()
    enabled = fields.Boolean()

    @validates_schema
    def _something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ValidationError("Send at least one field to change.")


class EmptySchema(Schema):
    """An empty object: the operation needs nothing but the path."""


class WebhookSchema(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    kind = code_out(EndpointKind, required=True, metadata={"description": KIND_HELP})
    description = fields.String(required=True)
    events = fields.List(code_out(EventType), required=True)
    enabled = fields.Boolean(required=True)
    previous_secret_until = UtcDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "After a rotation: until when the previous secret signs beside the new one."},
    )
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class WebhookSecretSchema(WebhookSchema):
    secret = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The signing secret (whsec_…): shown only in this answer, never again. "
            "null for a Teams or Slack channel, whose messages are not signed."
        },
    )


class WebhookListSchema(Schema):
    items = fields.List(fields.Nested(WebhookSchema), required=True)


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    event_type = code_out(EventType, required=True)
    message_id = fields.String(required=True, metadata={"description": "The webhook-id header of every attempt."})
    status = fields.String(required=True, validate=validate.OneOf([status.value for status in DeliveryStatus]))
    attempts = fields.Integer(required=True)
    last_status_code = fields.Integer(required=True, allow_none=True)
    last_response = fields.String(required=True, allow_none=True, metadata={"description": "The answer's start."})
    last_error = fields.String(required=True, allow_none=True, metadata={"description": "Why it failed or waits."})
    next_attempt_at = UtcDateTime(required=True, allow_none=True)
    delivered_at = UtcDateTime(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)


class DeliveryListSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)
