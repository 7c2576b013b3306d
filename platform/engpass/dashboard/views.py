"""The dashboard, the organization's home page.

Its blueprint keeps the name ``organizations`` the page had before it had a room of its own: mails,
templates and bookmarks link to ``organizations.home`` and ``organizations.settings``.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import get_locale
from markupsafe import Markup

from engpass.cached_pages import store_page
from engpass.candidates import service as candidates
from engpass.candidates.views import template_helpers
from engpass.cycles.forms import STAGE_LABELS
from engpass.dashboard import page_cache
from engpass.db import db
from engpass.formatting import money, number, percent
from engpass.gateway.web import org_blueprint
from engpass.i18n import today_in
from engpass.maturity.model import LEVEL_NAMES, WARNING_FREE_FROM_LEVEL, Reason
from engpass.organizations.context import current_org
from engpass.organizations.permissions import Action, can, require_permission
from engpass.radar import texts as radar_texts
from engpass.reminders.texts import describe
from engpass.trends import charts as trend_charts
from engpass.trends import dashboard

bp = org_blueprint("organizations", __name__)
TOP_CANDIDATES = 3


@bp.route("/")
@require_permission(Action.view_dashboard)
def home() -> str:
    """The dashboard: precomputed snapshots and the open items, never history computed here.

    Everything below the page head depends only on the organization's data, the language and
    the day, so it is rendered once per version of that data and served from the cache: a hit
    costs one query (the trend state, whose versions are in the key), a miss four more. The
    whole page is cached per session as well (``engpass.cached_pages``).
    """
    # The organization's calendar, as on the to-do page: what is overdue there is overdue here.
    today = today_in(current_org.timezone)
    state = dashboard.trend_state(db.session)
    # The dashboard's editing links; part of the cached part's key.
    member = can(Action.create_cycle)
    key = dashboard.cache_key(current_org.id, str(get_locale()), current_org.currency, state, today, member)
    part = page_cache.cached_part(key)
    if part is None:
        data = dashboard.load(db.session, today, state)
        if dashboard.ensure_requested(db.session, data):
            db.session.commit()
        part = {
            "body": _render_body(data, member),
            "has_cycles": data.has_cycles,
            "has_open_cycles": bool(data.open_cycles),
        }
        # A freshly requested recompute changed the state: do not store under the old key.
        if data.state is not None:
            page_cache.store_part(key, part)
    # Outside the cached part, whose key knows only the cycles' data: one query, on the whole page's misses
    # only (a candidate's change replaces the organization's page token, engpass.page_cache).
    top = candidates.open_ranked(db.session(), current_org.default_hourly_rate, current_org.working_weeks_per_year)
    helpers = template_helpers()
    page = render_template(
        "dashboard/home.html",
        part=part,
        body=Markup(part["body"]),
        top_candidates=top[:TOP_CANDIDATES],
        open_candidates=len(top),
        candidate_figure=helpers["figure_of"],
    )
    store_page(current_org.id, page)
    return page


def _render_body(data: dashboard.Dashboard, member: bool) -> str:
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
        "dashboard/_body.html",
        dash=data,
        member=member,
        charts=charts,
        reasons=[Reason.from_json(r) for r in latest.reasons] if latest else [],
        missing=[Reason.from_json(r) for r in latest.missing] if latest else [],
        level_names=LEVEL_NAMES,
        describe=describe,
        radar=radar_texts,
        currency=current_org.currency,
        warning_free_from=WARNING_FREE_FROM_LEVEL,
        trend=dashboard.level_trend(data.snapshots),
        # Yearly figures in whole currency units: cents on a projection pretend a precision it lacks.
        money=lambda value: money(round(value), current_org.currency),
        number=number,
        percent=percent,
    )
