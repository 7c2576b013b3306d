"""flask-smorest wired into the app: the OpenAPI 3.1 document is generated from the blueprint's
schemas and decorators, and every error is documented as ``application/problem+json``."""

from __future__ import annotations

import http
from typing import Any

from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import fields

from engpass.api import (  # noqa: F401  (their routes are on the blueprint)
    business_case,
    candidates,
    cycles,
    decision_paper,
    indirect_costs,
    measurement_imports,
    organization,
    overview,
    radar,
    rollouts,
    webhooks,
)
from engpass.api.blueprint import API_PREFIX, bp
from engpass.api.problem_schemas import ProblemSchema
from engpass.api.problems import MEDIA_TYPE
from engpass.api.schema_fields import CODES, DecimalString, UtcDateTime

DESCRIPTION = """\
The Engpass API for integrations (Power Automate, Zapier, scripts): the same cycles, rules,
audit log and figures as the web app, inside the organization the token belongs to.

Authenticate with a personal access token: `Authorization: Bearer engp_…`. Create one under
*API tokens* in your organization. The token acts with your current role there.
Errors are `application/problem+json` (RFC 9457). The language of messages follows
`Accept-Language` (`de` or `en`; German by default).
"""

RESPONSE_HEADERS = {
    401: {"WWW-Authenticate": {"description": '`Bearer realm="engpass"`', "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds until the token may call again.", "schema": {"type": "string"}}},
}


class EngpassApi(Api):
    """Errors are ours: problem documents by the app's error handler, documented per operation."""

    ERROR_SCHEMA = ProblemSchema
    # No catch-all "default" response: each operation names the statuses it answers.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        # The app's one HTTPException handler answers problem+json under /api/ and HTML elsewhere;
        # smorest's own would answer JSON for every page of the site.
        pass

    def _register_pagination_header(self) -> None:
        # Pages are documents with a cursor (api/paging.py), not smorest's header-based pagination.
        pass

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response = {"description": status.phrase, "schema": self.ERROR_SCHEMA}
            if status in RESPONSE_HEADERS:
                response["headers"] = RESPONSE_HEADERS[status]
            prepare_response(response, self.spec, MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)


class SchemaKeywords(BasePlugin):
    """What a marshmallow schema cannot say about itself, from its ``Meta.json_schema``: keywords and
    ``x-`` extensions of the schema as a whole (a ``PATCH``'s ``anyOf``, the stages' requirements)."""

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        schema = kwargs.get("schema")
        if schema is None:
            return {}
        meta = getattr(resolve_schema_cls(schema), "Meta", None)
        return dict(getattr(meta, "json_schema", {}))


def _enum_reference(_converter: Any, field: fields.Field, ret: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """A field of one of ``CODES`` refers to the enum's schema, nullable beside it, instead of an enum of its
    own: apispec writes the values into every field, and a nullable one as ``["string", "null"]`` with
    ``null`` among the values, from which client generators make several types per field."""
    enum = getattr(field, "enum", None)
    if enum not in CODES:
        return {}
    ret.pop("type", None)
    ret.pop("enum", None)
    reference = {"$ref": f"#/components/schemas/{enum.__name__}"}
    if field.allow_none:
        ret["anyOf"] = [reference, {"type": "null"}]
    else:
        ret.update(reference)
    return {}


def init_api(app: Flask) -> EngpassApi:
    app.config.update(
        API_TITLE="Engpass API",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": DESCRIPTION},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    api = EngpassApi(app, spec_kwargs={"extra_plugins": [SchemaKeywords()]})
    api.register_field(DecimalString, "string", "decimal")
    api.register_field(UtcDateTime, "string", "date-time")
    for enum in CODES:
        api.spec.components.schema(enum.__name__, {"type": "string", "enum": [member.value for member in enum]})
    # Last of the attribute functions: it replaces what the earlier ones wrote for an enum field.
    api.ma_plugin.converter.add_attribute_function(_enum_reference)
    api.register_blueprint(bp)
    return api
