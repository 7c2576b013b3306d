"""Bottleneck candidates: the organization's backlog of what might be the next bottleneck."""

from __future__ import annotations

from engpass.feature import Feature

FEATURE = Feature(
    name="candidates",
    blueprints=("engpass.candidates.views:bp",),
    models=("engpass.candidates.models",),
)
