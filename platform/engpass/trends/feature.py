"""Trends: the weekly snapshots and their recomputation by the workers."""

from __future__ import annotations

from engpass import task_names
from engpass.feature import Feature

FEATURE = Feature(
    name="trends",
    models=("engpass.trends.models",),
    tasks=(task_names.RECOMPUTE_TRENDS, task_names.RECOMPUTE_ALL_TRENDS, task_names.RECOMPUTE_TRENDS_BATCH),
    task_module="workers.tasks.trends",
)
