"""Organization pages: home, settings and the list shown to users without an organization."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engpass.audit.service import record
from engpass.db import db
from engpass.organizations.context import current_org, org_blueprint, require_role
from engpass.organizations.forms import OrganizationSettingsForm
from engpass.organizations.models import Role

bp = org_blueprint("organizations", __name__)
public_bp = Blueprint("organizations_public", __name__)

SETTINGS_FIELDS = ("name", "locale", "timezone", "currency", "default_hourly_rate")


@bp.route("/")
def home() -> str:
    return render_template("organizations/home.html")


@bp.route("/settings", methods=["GET", "POST"])
@require_role(Role.admin)
def settings() -> Any:
    form = OrganizationSettingsForm(obj=current_org)
    if form.validate_on_submit():
        changes = {
            name: [str(getattr(current_org, name)), str(getattr(form, name).data)]
            for name in SETTINGS_FIELDS
            if getattr(current_org, name) != getattr(form, name).data
        }
        form.populate_obj(current_org)
        if changes:
            record(
                db.session,
                "organization.updated",
                actor_id=current_user.id,
                object_type="organization",
                object_id=current_org.id,
                changes=changes,
            )
        db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for("organizations.settings"))
    return render_template("organizations/settings.html", form=form), 422 if form.errors else 200


@public_bp.route("/welcome")
@login_required
def no_organization() -> str:
    return render_template("organizations/no_organization.html")
