"""Organization pages: home, settings and the list shown to users without an organization."""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Blueprint, Response, flash, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from engpass.accounts.reauth import require_recent_auth
from engpass.audit.service import record
from engpass.cycles.forms import STAGE_LABELS
from engpass.cycles.plausibility import rate_doubts
from engpass.db import db
from engpass.extensions import cache
from engpass.form_fields import ask_about
from engpass.formatting import money, number
from engpass.i18n import today_in
from engpass.maturity.model import LEVEL_NAMES, Reason
from engpass.organizations.context import LAST_ORG_KEY, current_org, known_org_id, org_blueprint
from engpass.organizations.forms import OrganizationSettingsForm, RequireTwoFactorForm
from engpass.organizations.permissions import Action, can, require_permission
from engpass.organizations.service import SETTINGS_FIELDS, update_settings
from engpass.page_cache import page_cache
from engpass.reminders.texts import describe
from engpass.trends import charts as trend_charts
from engpass.trends import dashboard

log = logging.getLogger(__name__)

bp = org_blueprint("organizations", __name__)
public_bp = Blueprint("organizations_public", __name__)


@bp.before_app_request
def _serve_cached_dashboard() -> Response | None:
    """The dashboard is the page opened most; a session that saw it and whose data has not changed
    since gets the same page again without a single query (see engpass.page_cache)."""
    if request.endpoint != "organizations.home":
        return None
    slug = g.get("org_slug")
    org_id = known_org_id(slug)
    # A first visit to an organization records it as the last one used: that needs the full path.
    if org_id is None or session.get(LAST_ORG_KEY) != slug:
        return None
    key = page_cache.request_key(org_id)
    if key is None:
        return None
    g.page_key, g.page_org_id = key, org_id
    body = page_cache.get(key)
    if body is None:
        return None
    return Response(body, content_type="text/html; charset=utf-8")


@bp.route("/")
@require_permission(Action.view_dashboard)
def home() -> str:
    """The dashboard: precomputed snapshots and the open items, never history computed here.

    Everything below the page head depends only on the organization's data, the language and
    the day, so it is rendered once per version of that data and served from the cache: a hit
    costs one query (the trend state, whose versions are in the key), a miss three more. The
    whole page is cached per session as well (``_serve_cached_dashboard``).
    """
    # The organization's calendar, as on the to-do page: what is overdue there is overdue here.
    today = today_in(current_org.timezone)
    state = dashboard.trend_state(db.session)
    # The dashboard's editing links; part of the cached part's key.
    member = can(Action.create_cycle)
    key = dashboard.cache_key(current_org.id, str(get_locale()), current_org.currency, state, today, member)
    part = _cached_part(key)
    if part is None:
        data = dashboard.load(db.session, today, state)
        if dashboard.ensure_requested(db.session, data):
            db.session.commit()
        part = {
            "body": _render_dashboard_body(data, member),
            "has_cycles": data.has_cycles,
            "has_open_cycles": bool(data.open_cycles),
        }
        # A freshly requested recompute changed the state: do not store under the old key.
        if data.state is not None:
            _store_part(key, part)
    page = render_template("organizations/home.html", part=part, body=Markup(part["body"]))
    if g.get("page_org_id") == current_org.id:
        page_cache.put(g.page_key, page.encode())
    return page


def _cached_part(key: str) -> dict[str, Any] | None:
    """The cached part, or None when the cache's Redis does not answer: the page is then rendered from the
    database, as after any miss (Flask-Caching raises Redis's errors to the caller)."""
    try:
        return cache.get(key)
    except redis.RedisError:
        log.warning("dashboard cache unavailable, rendering uncached", exc_info=True)
        return None


def _store_part(key: str, part: dict[str, Any]) -> None:
    try:
        cache.set(key, part)
    except redis.RedisError:
        log.warning("dashboard cache unavailable, not stored", exc_info=True)


def _render_dashboard_body(data: dashboard.Dashboard, member: bool) -> str:
    latest = data.latest
    charts = {}
    if latest is not None:
        charts = {
            "dimensions": trend_charts.dimensions(latest),
            "pipeline": trend_charts.pipeline(latest, {k.value: str(v) for k, v in STAGE_LABELS.items()}),
            "maturity": trend_charts.maturity_trend(data.snapshots),
            "savings": trend_charts.savings_trend(data.snapshots, current_org.currency),
            "lead_time": trend_charts.lead_time_trend(data.snapshots),
        }
    return render_template(
        "organizations/_dashboard_body.html",
        dash=data,
        member=member,
        charts=charts,
        reasons=[Reason.from_json(r) for r in latest.reasons] if latest else [],
        missing=[Reason.from_json(r) for r in latest.missing] if latest else [],
        level_names=LEVEL_NAMES,
        describe=describe,
        trend=dashboard.level_trend(data.snapshots),
        # Yearly figures in whole currency units: cents on a projection pretend a precision it lacks.
        money=lambda value: money(round(value), current_org.currency),
        number=number,
    )


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
    page = render_template("organizations/settings.html", form=form, two_factor_form=two_factor_form)
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


@public_bp.route("/welcome")
@login_required
def no_organization() -> str:
    return render_template("organizations/no_organization.html")
