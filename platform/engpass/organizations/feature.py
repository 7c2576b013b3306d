"""Organizations, memberships and roles, and the page for users without an organization."""

from __future__ import annotations

from engpass.feature import Feature

FEATURE = Feature(
    name="organizations",
    blueprints=("engpass.organizations.views:public_bp",),
    models=("engpass.organizations.models",),
)
