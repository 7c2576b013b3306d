"""E-mail notifications: preferences, the send log and its resend sweep, the development outbox."""

from __future__ import annotations

from engpass import task_names
from engpass.feature import Feature

FEATURE = Feature(
    name="notifications",
    blueprints=("engpass.notifications.views:bp", "engpass.notifications.dev_mail:bp"),
    models=("engpass.notifications.models",),
    tasks=(task_names.RESEND_MAIL,),
    task_module="workers.tasks.notifications",
)
