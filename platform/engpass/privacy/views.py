"""Deleting an organization (its owners), and one's own account and data (everyone): docs/privacy.md."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from engpass.accounts.reauth import require_recent_auth
from engpass.accounts.session import end_session
from engpass.db import db, utcnow
from engpass.extensions import limiter
from engpass.gateway.web import org_blueprint
from engpass.organizations import memberships
from engpass.organizations.context import LAST_ORG_KEY, current_org
from engpass.organizations.permissions import Action, require_permission
from engpass.privacy import account, export, organization
from engpass.privacy.forms import DeleteAccountForm, DeleteOrganizationForm, typed_exactly

bp = org_blueprint("privacy", __name__)
public_bp = Blueprint("privacy_account", __name__)


def _password_limit() -> str:
    # The password asked for here must not be guessed faster than at the login.
    return current_app.extensions["engpass.settings"].login_rate_limit


@bp.route("/settings/delete", methods=["GET", "POST"])
@require_permission(Action.delete_organization)
@require_recent_auth()
@limiter.limit(_password_limit, methods=["POST"])
def delete_organization() -> Any:
    org = current_org._get_current_object()
    form = DeleteOrganizationForm()
    if form.validate_on_submit():
        if not typed_exactly(form.confirmation.data, org.name, org.slug):
            form.confirmation.errors.append(
                _("This is not the organization's name. Please type it exactly: %(name)s", name=org.name)
            )
        elif not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("The password is not correct."))
        else:
            name, slug = org.name, org.slug
            organization.delete_organization(db.session(), org, actor_id=current_user.id)
            db.session.commit()
            if session.get(LAST_ORG_KEY) == slug:
                session.pop(LAST_ORG_KEY)
            flash(_("%(name)s has been deleted with all its data.", name=name), "success")
            return redirect(url_for("index"))
    figures = organization.summary(db.session(), org.id)
    status = 422 if form.errors else 200
    return render_template("privacy/delete_organization.html", form=form, figures=figures), status


def _render_account(form: DeleteAccountForm, status: int = 200) -> tuple[str, int]:
    blocking = memberships.sole_owned(db.session(), current_user.id)
    return render_template("privacy/delete_account.html", form=form, blocking=blocking), status


@public_bp.route("/account/delete", methods=["GET", "POST"])
@login_required
@require_recent_auth()
@limiter.limit(_password_limit, methods=["POST"])
def delete_account() -> Any:
    user = current_user._get_current_object()
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _render_account(form, 422 if form.errors else 200)
    if not typed_exactly((form.confirmation.data or "").lower(), user.email):
        form.confirmation.errors.append(
            _("This is not your e-mail address. Please type it exactly: %(email)s", email=user.email)
        )
        return _render_account(form, 422)
    if not user.check_password(form.current_password.data):
        form.current_password.errors.append(_("The password is not correct."))
        return _render_account(form, 422)
    try:
        account.delete_account(db.session(), user)
    except account.SoleOwner:
        db.session.rollback()
        # The page names them and what to do.
        return _render_account(form, 409)
    db.session.commit()
    end_session()
    flash(_("Your account has been deleted. Goodbye!"), "info")
    return redirect(url_for("accounts.login"))


@public_bp.route("/account/export", methods=["POST"])
@login_required
def export_data() -> Response:
    """A POST (with the CSRF token every form carries), so no link prefetcher or scanner ever starts one."""
    data = export.export_user_data(db.session(), current_user._get_current_object())
    filename = f"engpass-export-{utcnow().date().isoformat()}.json"
    response = Response(export.to_json(data), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
