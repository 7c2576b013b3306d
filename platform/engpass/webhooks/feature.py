"""Outbound webhooks: the endpoints' pages, their tables and the delivery tasks."""

from __future__ import annotations

from engpass import task_names
from engpass.feature import Feature

FEATURE = Feature(
    name="webhooks",
    blueprints=("engpass.webhooks.views:bp",),
    models=("engpass.webhooks.models",),
    tasks=(task_names.DELIVER_WEBHOOK, task_names.SWEEP_WEBHOOKS),
    task_module="workers.tasks.webhooks",
)
