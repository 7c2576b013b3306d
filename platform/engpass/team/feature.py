"""The team page, invitations and the invitation e-mail."""

from __future__ import annotations

from engpass import task_names
from engpass.feature import Feature

FEATURE = Feature(
    name="team",
    blueprints=("engpass.team.views:bp", "engpass.team.views:public_bp"),
    models=("engpass.team.models",),
    tasks=(task_names.SEND_INVITATION,),
    task_module="workers.tasks.team",
)
