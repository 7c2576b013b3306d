"""The token page of an organization: one's own personal access tokens — create (shown once), list, revoke —
and, for its admins, everyone else's working tokens.

Tokens live per organization because each is bound to one: it reads and writes that organization's data
with the user's role there. Members see and revoke only their own: another user's token answers 404 like
a missing one. Admins and owners (``manage_api_tokens``) see the others' tokens that still work (never the
secret, which nobody has but its holder) and revoke them — an owner's only as an owner; the holder finds
that among their security events and gets an e-mail (``tokens.mail``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from engpass import task_names
from engpass.accounts import security_log
from engpass.accounts.reauth import require_recent_auth
from engpass.db import db, utcnow
from engpass.gateway.web import org_blueprint
from engpass.organizations.models import Role
from engpass.organizations.permissions import Action, can, require_permission
from engpass.outbox.service import enqueue
from engpass.tokens import service
from engpass.tokens.forms import TokenForm

bp = org_blueprint("tokens", __name__, "/api-tokens")


def _may_revoke(other: service.OthersToken) -> bool:
    return can(Action.manage_api_tokens) and (other.role != Role.owner or can(Action.manage_owners))


def _render(form: TokenForm, new_token: str | None = None, status: int = 200) -> tuple[str, int]:
    now = utcnow()
    others = service.working_tokens_of_others(db.session, current_user.id, now) if can(Action.manage_api_tokens) else []
    return (
        render_template(
            "tokens/index.html",
            form=form,
            tokens=service.tokens_of(db.session, current_user.id),
            others=[(other, _may_revoke(other)) for other in others],
            new_token=new_token,
            now=now,
        ),
        status,
    )


@bp.route("/", methods=["GET", "POST"])
@require_permission(Action.use_api)
@require_recent_auth(methods=("POST",))
def index() -> Any:
    form = TokenForm()
    if not form.validate_on_submit():
        return _render(form, status=422 if form.errors else 200)
    _token_row, token = service.create_token(
        db.session,
        current_user.id,
        form.name.data,
        service.expiry_for(form.expiry_days()),
        current_user.id,
    )
    db.session.commit()
    # Shown in this response only: never stored, never put in a cookie or a redirect.
    return _render(TokenForm(formdata=None), new_token=token, status=201)


@bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@require_permission(Action.use_api)
def revoke(token_id: int) -> Response:
    api_token = service.token_of(db.session, current_user.id, token_id)
    if api_token is None and can(Action.manage_api_tokens):
        other = service.token_of_other(db.session, current_user.id, token_id)
        if other is not None and _may_revoke(other):
            api_token = other.token
    if api_token is None:
        abort(404)
    if request.method == "POST":
        if service.revoke_token(db.session, api_token, current_user.id):
            if api_token.user_id != current_user.id:
                security_log.record(db.session, api_token.user_id, "api_token_revoked")
                # The e-mail goes with the commit, through the outbox: a dead broker cannot lose it.
                enqueue(db.session, task_names.NOTIFY_TOKEN_REVOKED, token_id=api_token.id)
            db.session.commit()
        flash(_("The token “%(name)s” was revoked. It no longer works.", name=api_token.name), "success")
    return redirect(url_for("tokens.index"))
