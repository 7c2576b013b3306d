"""The organization's home page and its settings page."""

from __future__ import annotations

from engpass.feature import Feature

FEATURE = Feature(
    name="dashboard",
    # The settings pages add their routes to the dashboard's blueprint: loaded through them, it has both.
    blueprints=("engpass.dashboard.settings_views:bp",),
)
