"""The improvement cycle: its tables and pages."""

from __future__ import annotations

from engpass.feature import Feature

FEATURE = Feature(
    name="cycles",
    blueprints=("engpass.cycles.views:bp",),
    models=("engpass.cycles.models",),
)
