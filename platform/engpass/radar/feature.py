"""The anti-pattern radar: the three ways companies fail, seen coming from the data (docs/radar.md)."""

from __future__ import annotations

from engpass.feature import Feature

# No tasks of its own: the trends' recompute, after every change and nightly, rewrites the findings too,
# so the maturity level of the current week and the portfolio's document are computed with them.
FEATURE = Feature(
    name="radar",
    models=("engpass.radar.models",),
)
