"""The outbox: work recorded in the caller's transaction and relayed to the broker."""

from __future__ import annotations

from engpass import task_names
from engpass.feature import Feature

FEATURE = Feature(
    name="outbox",
    models=("engpass.outbox.models",),
    tasks=(task_names.OUTBOX_SWEEP, task_names.TIDY_EMBEDDED_BROKER),
    task_module="workers.tasks.outbox",
)
