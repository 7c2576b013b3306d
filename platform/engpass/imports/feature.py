"""Imports: measurements from a CSV file or an Excel workbook, on the cycle's pages (the API's operation
lives with the other API operations)."""

from __future__ import annotations

from engpass.feature import Feature

FEATURE = Feature(
    name="imports",
    blueprints=("engpass.imports.views:bp",),
    models=("engpass.imports.models",),
)
