"""The token page of an organization: one's own personal access tokens — create (shown once), list, revoke.

Tokens live per organization because each is bound to one: it reads and writes that
organization's data with the user's role there. Every user sees and revokes only their own;
another user's token answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from engpass.accounts.reauth import require_recent_auth
from engpass.db import db, utcnow
from engpass.organizations.context import org_blueprint
from engpass.organizations.permissions import Action, require_permission
from engpass.tokens import service
from engpass.tokens.forms import TokenForm

bp = org_blueprint("tokens", __name__, "/api-tokens")


def _render(form: TokenForm, new_token: str | None = None, status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "tokens/index.html",
            form=form,
            tokens=service.tokens_of(db.session, current_user.id),
            new_token=new_token,
            now=utcnow(),
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
    if api_token is None:
        abort(404)
    if request.method == "POST":
        if service.revoke_token(db.session, api_token, current_user.id):
            db.session.commit()
        flash(_("The token “%(name)s” was revoked. It no longer works.", name=api_token.name), "success")
    return redirect(url_for("tokens.index"))
