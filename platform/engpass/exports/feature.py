"""Exports: the pages, the organization's data export built by a worker, and its e-mail."""

from __future__ import annotations

from engpass import task_names
from engpass.feature import Feature

FEATURE = Feature(
    name="exports",
    blueprints=("engpass.exports.views:bp",),
    models=("engpass.exports.models",),
    tasks=(task_names.EXPORT_ORGANIZATION, task_names.CLEAN_UP_EXPORTS),
    task_module="workers.tasks.exports",
    resenders={"data_export": "engpass.exports.mail:resend"},
)
