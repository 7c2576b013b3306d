"""The exported columns of the KPI's money value and the forecast (docs/business-case.md): appended to the
cycles and business-case sheets of ``exports.rows``, computed by the same functions as the cycle page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _

from engpass.cycles.business_case import BusinessCase
from engpass.cycles.forecast import compare
from engpass.cycles.models import Cycle, Measurement
from engpass.cycles.revenue import contribution
from engpass.organizations.models import Organization

if TYPE_CHECKING:
    from engpass.exports.rows import Column


def columns(currency: str) -> list[Column]:
    # ``rows`` imports this module for its sheets; its column types are read once it is loaded.
    from engpass.exports.rows import Column, Kind

    def cash(key: str, label: str) -> Column:
        return Column(key, f"{label} ({currency})", Kind.money, 14)

    return [
        cash("kpi_value_per_unit", _("Value per unit")),
        Column("kpi_period", _("The KPI counts per (code)"), Kind.text, 10),
        Column("forecast_hours_per_week", _("Forecast: hours per week after"), Kind.number),
        Column("forecast_kpi", _("Forecast: KPI value after"), Kind.number),
        cash("forecast_cost_per_week", _("Forecast: cost per week after")),
        cash("additional_contribution_per_year", _("Additional contribution per year")),
        cash("forecast_savings_per_year", _("Forecast: savings per year")),
        cash("forecast_contribution_per_year", _("Forecast: additional contribution per year")),
        Column("achieved_share_percent", _("Achieved share of the forecast") + " (%)", Kind.percent, 12),
    ]


def values(cycle: Cycle, measurement: Measurement | None, case: BusinessCase, org: Organization) -> dict[str, Any]:
    """``case`` is the business case of ``measurement``, the cycle's latest."""
    weeks = org.working_weeks_per_year
    added = contribution(cycle, case.kpi_current, weeks)
    measured = [measurement] if measurement is not None else []
    forecast = compare(cycle, measured, case, org.default_hourly_rate, weeks)
    period = cycle.kpi_period
    return {
        "kpi_value_per_unit": cycle.kpi_value_per_unit,
        "kpi_period": None if period is None else str(getattr(period, "value", period)),
        "forecast_hours_per_week": cycle.forecast_hours_per_week,
        "forecast_kpi": cycle.forecast_kpi,
        "forecast_cost_per_week": cycle.forecast_cost_per_week,
        "additional_contribution_per_year": added.per_year if added is not None else None,
        "forecast_savings_per_year": forecast.savings_per_year.forecast,
        "forecast_contribution_per_year": forecast.contribution_per_year.forecast,
        "achieved_share_percent": forecast.achieved_percent,
    }
