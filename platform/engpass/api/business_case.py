"""The cycle's business case over the API: the same figures as the cycle page and the print page."""

from __future__ import annotations

from typing import Any

from flask import g

from engpass.api.blueprint import bp, endpoint
from engpass.api.cycles import TAG, cycle_or_404, effects
from engpass.api.figures import BusinessCaseSchema
from engpass.api.rollouts import at_scale_document, rollout_of_scaled
from engpass.cycles import measurement_reads
from engpass.cycles.business_case import compute, status_quo_cost
from engpass.db import db
from engpass.organizations.permissions import Action


@endpoint("/cycles/<int:cycle_id>/business-case", "GET", Action.view_cycles, tag=TAG)
@bp.response(200, BusinessCaseSchema)
def business_case(cycle_id: int) -> dict[str, Any]:
    """The cycle's business case from its own numbers (docs/business-case.md), in the organization's currency."""
    cycle = cycle_or_404(cycle_id)
    # The latest measurement is all the figures need, however many the cycle has.
    measurements = measurement_reads.latest(db.session(), cycle, limit=1)
    case = compute(cycle, measurements, g.org.default_hourly_rate, g.org.working_weeks_per_year)
    status_quo = status_quo_cost(cycle, g.org.default_hourly_rate, g.org.working_weeks_per_year)
    return {
        "cycle_id": cycle.id,
        "currency": g.org.currency,
        "hourly_rate": g.org.default_hourly_rate,
        "working_weeks_per_year": g.org.working_weeks_per_year,
        "status_quo_cost": None
        if status_quo is None
        else {
            "per_year": status_quo.total,
            "hours": status_quo.hours_cost,
            "direct_cost": status_quo.direct_cost,
            "indirect_cost": status_quo.indirect_cost,
            "guessed_cost": status_quo.guessed_cost,
            "guessed_share": status_quo.guessed_share,
            "guessed_item_ids": [cost.item.id for cost in status_quo.indirect_items if cost.guessed],
        },
        "measured": case.measured,
        "hours_saved_per_week": case.hours_saved_per_week,
        "cost_saved_per_week": case.cost_saved_per_week,
        "running_cost_per_year": case.running_cost_per_year,
        "savings_per_year": case.euros_per_year,
        "effort_cost": case.effort_cost,
        "payback_weeks": case.payback_weeks,
        "kpi_current": case.kpi_current,
        "kpi_change_percent": case.kpi_change_percent,
        "kpi_improved": case.kpi_improved,
        "target_reached_percent": case.target_reached_percent,
        **effects(cycle, measurements, case),
        "at_scale": at_scale_document(cycle, rollout) if (rollout := rollout_of_scaled(cycle)) else None,
    }
