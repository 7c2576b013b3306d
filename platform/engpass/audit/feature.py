"""The audit log: its events and the page for admins."""

from __future__ import annotations

from engpass.feature import Feature

FEATURE = Feature(
    name="audit",
    blueprints=("engpass.audit.views:bp",),
    models=("engpass.audit.models",),
)
