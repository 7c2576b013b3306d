"""Data protection: deleting an organization or an account, one's own data, the deletion records."""

from __future__ import annotations

from engpass.feature import Feature

FEATURE = Feature(
    name="privacy",
    blueprints=("engpass.privacy.views:bp", "engpass.privacy.views:public_bp"),
    models=("engpass.privacy.models",),
)
