"""The organization's settings page: name, language, time zone, currency, hourly rate (which values every
figure of the dashboard), and the owner's switch that requires two-factor authentication."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engpass.accounts.reauth import require_recent_auth
from engpass.audit.service import record
from engpass.cycles.plausibility import rate_doubts
from engpass.dashboard.org_settings import SETTINGS_FIELDS, update_settings
from engpass.dashboard.views import bp
from engpass.db import db
from engpass.form_fields import ask_about
from engpass.organizations.context import current_org
from engpass.organizations.forms import OrganizationSettingsForm, RequireTwoFactorForm
from engpass.organizations.permissions import Action, require_permission


@bp.route("/settings", methods=["GET", "POST"])
@require_permission(Action.edit_org_settings)
def settings() -> Any:
    form = OrganizationSettingsForm(obj=current_org)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in SETTINGS_FIELDS}
        doubts = rate_doubts(values["default_hourly_rate"], values["currency"], current_org.default_hourly_rate)
        if ask_about(form, doubts):
            return _render_settings(form, RequireTwoFactorForm(formdata=None), 422)
        update_settings(db.session, current_org, values, current_user.id)
        db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for("organizations.settings"))
    return _render_settings(form, RequireTwoFactorForm(formdata=None), 422 if form.errors else 200)


def _render_settings(form: OrganizationSettingsForm, two_factor_form: RequireTwoFactorForm, status: int) -> Any:
    two_factor_form.require.data = two_factor_form.require.data or current_org.require_two_factor
    page = render_template("dashboard/settings.html", form=form, two_factor_form=two_factor_form)
    return page, status


@bp.route("/settings/two-factor", methods=["POST"])
@require_permission(Action.require_two_factor)
@require_recent_auth()
def require_two_factor() -> Any:
    """The owner's switch: everyone without 2FA is sent to set it up before any page of this organization."""
    form = RequireTwoFactorForm()
    if not form.validate_on_submit():
        return _render_settings(OrganizationSettingsForm(obj=current_org, formdata=None), form, 422)
    required = bool(form.require.data)
    if required and not current_user.has_two_factor:
        # Otherwise the owner's next click would send them to the setup they have not done.
        form.require.errors.append(_("Please set up two-factor authentication for yourself first."))
        return _render_settings(OrganizationSettingsForm(obj=current_org, formdata=None), form, 409)
    if required != current_org.require_two_factor:
        current_org.require_two_factor = required
        record(
            db.session,
            "organization.two_factor_required" if required else "organization.two_factor_optional",
            actor_id=current_user.id,
            object_type="organization",
            object_id=current_org.id,
        )
        db.session.commit()
    if required:
        flash(_("From now on, everyone here needs two-factor authentication."), "success")
    else:
        flash(_("Two-factor authentication is optional here again."), "info")
    return redirect(url_for("organizations.settings"))
