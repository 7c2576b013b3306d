"""The accounts room: sign-up, login, two-factor, the account pages and the welcome and sign-up mails."""

from __future__ import annotations

from engpass import task_names
from engpass.feature import Feature

FEATURE = Feature(
    name="accounts",
    blueprints=("engpass.accounts.views:bp", "engpass.accounts.twofactor_views:bp"),
    models=("engpass.accounts.models",),
    tasks=(task_names.SEND_WELCOME, task_names.SEND_SIGNUP_NOTICE),
    task_module="workers.tasks.accounts",
    resenders={
        "welcome": "engpass.accounts.welcome:resend",
        "signup_attempt": "engpass.accounts.signup_notice:resend",
    },
)
