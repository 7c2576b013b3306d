"""The dashboard and the maturity history over the API: what the workers' weekly snapshots say.

Read like the dashboard page reads them (``trends.dashboard``): never computed in the request;
when cycles exist but no snapshot yet, the workers are asked once through the outbox and
``pending`` says the figures are on their way.
"""

from __future__ import annotations

from typing import Any

from flask import g

from engpass.api.blueprint import bp, endpoint
from engpass.api.figures import DashboardSchema, HistoryArgsSchema, HistorySchema
from engpass.db import db
from engpass.i18n import today_in
from engpass.maturity.model import LEVEL_NAMES, Reason
from engpass.organizations.permissions import Action
from engpass.trends import dashboard
from engpass.trends.models import TrendSnapshot
from engpass.trends.portfolio import forecast_accuracy
from engpass.trends.service import latest_snapshots

TAG = "Overview"


def _reasons(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"code": r.code, "params": r.params, "text": r.text()} for r in map(Reason.from_json, stored)]


def _week(snapshot: TrendSnapshot) -> dict[str, Any]:
    return {
        "week_start": snapshot.week_start,
        "level": snapshot.level,
        "level_name": str(LEVEL_NAMES[snapshot.level]),
        "scores": snapshot.scores,
        "proven_cycles": snapshot.proven_cycles,
        "proven_share": snapshot.proven_share,
        "hours_saved_per_week": snapshot.hours_saved_per_week,
        "savings_per_year": snapshot.euros_per_year,
        "currency": g.org.currency,
        "cycles_per_stage": snapshot.cycles_per_stage,
        "median_lead_time_days": snapshot.median_lead_time_days,
        "median_prototype_days": snapshot.median_prototype_days,
        "computed_at": snapshot.computed_at,
    }


@endpoint("/dashboard", "GET", Action.view_dashboard, tag=TAG)
@bp.response(200, DashboardSchema)
def get_dashboard() -> dict[str, Any]:
    """The organization's overview: the latest weekly snapshot with the maturity level, the open
    cycles and what needs attention (the reminders' rules)."""
    state = dashboard.trend_state(db.session)
    data = dashboard.load(db.session, today_in(g.org.timezone), state)
    if dashboard.ensure_requested(db.session, data):
        db.session.commit()
    latest = data.latest
    accuracy = forecast_accuracy(state.portfolio if state is not None else None)
    maturity = None
    if latest is not None:
        maturity = {
            "level": latest.level,
            "name": str(LEVEL_NAMES[latest.level]),
            "scores": latest.scores,
            "reasons": _reasons(latest.reasons),
            "missing": _reasons(latest.missing),
        }
    return {
        "currency": g.org.currency,
        "pending": data.pending,
        "maturity": maturity,
        "latest_week": _week(latest) if latest is not None else None,
        "open_cycles": [{"id": c.id, "title": c.title, "stage": c.stage} for c in data.open_cycles],
        "attention": [
            {"rule": r.rule.value, "cycle_id": r.cycle_id, "cycle_title": r.cycle_title, "since": r.since}
            for r in data.attention
        ],
        "forecast_accuracy": None if accuracy is None else {"percent": accuracy.percent, "cycles": accuracy.cycles},
    }


@endpoint("/maturity/history", "GET", Action.view_dashboard, tag=TAG)
@bp.arguments(HistoryArgsSchema, location="query")
@bp.response(200, HistorySchema)
def maturity_history(args: dict[str, Any]) -> dict[str, Any]:
    """The maturity level, its five scores and the savings week by week, oldest first."""
    return {"weeks": [_week(s) for s in latest_snapshots(db.session(), args["weeks"])]}
