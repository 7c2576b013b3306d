"""Consultants: client accesses, requests, invitation codes and the portfolio."""

from __future__ import annotations

from engpass.feature import Feature

FEATURE = Feature(
    name="consulting",
    blueprints=("engpass.consulting.views:bp",),
    models=("engpass.consulting.models",),
)
