"""Single sign-on with OpenID Connect: the owner's settings, the sign-in through the provider."""

from __future__ import annotations

from engpass.feature import Feature

FEATURE = Feature(
    name="sso",
    blueprints=("engpass.sso.views:bp", "engpass.sso.settings_views:bp"),
    models=("engpass.sso.models",),
)
