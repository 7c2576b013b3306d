"""Rollouts: what a "scale" decision sets out to reach, what it costs, and whether the effect holds."""

from __future__ import annotations

from engpass.feature import Feature

FEATURE = Feature(
    name="rollouts",
    blueprints=("engpass.rollouts.views:bp",),
    models=("engpass.rollouts.models",),
)
