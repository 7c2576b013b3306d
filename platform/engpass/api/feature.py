"""The REST API v1: its reference page, and its operations registered through flask-smorest."""

from __future__ import annotations

from engpass.feature import Feature

FEATURE = Feature(
    name="api",
    blueprints=("engpass.api.docs:bp",),
    # Bearer tokens, no cookies: nothing a cross-site form could ride on (docs/api.md).
    csrf_exempt=("engpass.api.blueprint:bp",),
    # flask-smorest registers the operations' blueprint itself, with the OpenAPI document.
    setup="engpass.api.extension:init_api",
)
