"""The anti-pattern radar over the API: the warning signs the workers found, with their rules in words."""

from __future__ import annotations

from typing import Any

from flask import g

from engpass.api.blueprint import bp, endpoint
from engpass.api.figures import RadarSchema
from engpass.db import db
from engpass.organizations.permissions import Action
from engpass.radar import rules, texts
from engpass.radar import service as radar
from engpass.trends import dashboard

TAG = "Overview"
THRESHOLDS = (
    "ADOPTION_CHECK_DAYS",
    "ADOPTION_MIN_PERCENT",
    "SCALED_UNMEASURED_DAYS",
    "ROLLOUT_DUE_DAYS",
    "UNDECIDED_DAYS",
    "SPONSOR_DECIDED_DAYS",
    "OWNER_MAX_PERCENT",
    "OWNER_WINDOW_DAYS",
    "OWNER_MIN_CYCLES",
    "STUCK_ITERATIONS",
    "SCALE_WATCH_DAYS",
)


def _finding(finding: radar.Shown) -> dict[str, Any]:
    return {
        "pattern": finding.pattern,
        "pattern_name": str(texts.PATTERN_NAMES[finding.pattern]),
        "rule": finding.rule,
        "rule_text": texts.rule_text(finding.rule),
        "cycle_id": finding.cycle_id,
        "cycle_title": finding.cycle_title,
        "person": finding.user_name,
        "figures": finding.figures,
        "text": texts.trigger_text(finding, g.org.currency),
        "next_step": texts.next_step(finding.rule),
        "opened_on": finding.opened_on,
    }


@endpoint("/radar", "GET", Action.view_dashboard, tag=TAG)
@bp.response(200, RadarSchema)
def get_radar() -> dict[str, Any]:
    """The anti-pattern radar: tool first, the isolated pilot and the lone expert, each finding with the
    figures that triggered it and what to do next (docs/radar.md)."""
    state = dashboard.trend_state(db.session)
    return {
        "currency": g.org.currency,
        "pending": state is not None and state.computed_version < state.version,
        "thresholds": {name.lower(): getattr(rules, name) for name in THRESHOLDS},
        "findings": [_finding(f) for f in radar.current(db.session())],
    }
