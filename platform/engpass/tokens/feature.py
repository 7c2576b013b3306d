"""Personal access tokens: their pages and the e-mail to a holder whose token was revoked."""

from __future__ import annotations

from engpass import task_names
from engpass.feature import Feature

FEATURE = Feature(
    name="tokens",
    blueprints=("engpass.tokens.views:bp",),
    models=("engpass.tokens.models",),
    tasks=(task_names.NOTIFY_TOKEN_REVOKED,),
    task_module="workers.tasks.tokens",
    resenders={"api_token_revoked": "engpass.tokens.mail:resend"},
)
