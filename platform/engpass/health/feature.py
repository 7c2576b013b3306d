"""The readiness check ``/healthz``."""

from __future__ import annotations

from engpass.feature import Feature

FEATURE = Feature(
    name="health",
    blueprints=("engpass.health.views:bp",),
    # Probes send no session and no form.
    csrf_exempt=("engpass.health.views:bp",),
)
