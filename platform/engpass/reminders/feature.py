"""Reminders: the to-do list and the morning e-mails."""

from __future__ import annotations

from engpass import task_names
from engpass.feature import Feature

FEATURE = Feature(
    name="reminders",
    blueprints=("engpass.reminders.views:bp", "engpass.reminders.views:public_bp"),
    tasks=(task_names.SEND_DUE_REMINDERS, task_names.SEND_REMINDERS_BATCH),
    task_module="workers.tasks.reminders",
    resenders={"reminder.": "engpass.reminders.mailing:resend"},
)
