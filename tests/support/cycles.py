"""Cycles built through the cycle services for tests, and the figures the scaled quoting cycle shows."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

# Two of Sabine's indirect costs (docs/business-case.md), the penalty a guess: 6 × 85 × 12 = 6,120 € and
# 5,000 € a year beside the hours' 14 × 65 × 52 = 47,320 €.
SCALED_CYCLE_INDIRECT_COSTS = (
    {"label": "Nacharbeit an Angeboten", "kind": "errors", "quantity": Decimal(6), "unit_value": Decimal(85)}
    | {"people_affected": None, "period": "month", "source": "measured", "source_note": "Gutschriften 2026"},
    {"label": "Vertragsstrafe bei Terminverzug", "kind": "penalties", "quantity": Decimal(1)}
    | {"unit_value": Decimal(5000), "people_affected": None, "period": "year", "source": "guess", "source_note": ""},
)

# Sabine's numbers (docs/business-case.md), with their arithmetic, in German and in euros: what the printable
# business case and its PDF (tests/web/test_export_pdf.py) both show.
SCALED_CYCLE_SHEET = (
    "27.040 €",
    "8 Std./Woche × 65 € × 52 Arbeitswochen = 27.040 €",
    "(4 − 9) ÷ 9 × 100 = −55,6 %",
    "6 Tage × 8 Std. × 65 € = 3.120 €",
    "3.120 € ÷ (27.040 € ÷ 52 Arbeitswochen) = 6 Wochen",
    "14 Std. vorher − 6 Std. jetzt = 8 Std. pro Woche",
    "Beträge in EUR",
    "Skalieren",
    # The status quo with the indirect costs above: 47,320 + 6,120 + 5,000, of which 5,000 (8.6 %) a guess.
    "Kosten des Ist-Zustands pro Jahr",
    "58.440 €",
    "Anteil aus Vermutungen",
    "8,6 %",
    "5.000 € von 58.440 € beruhen auf Vermutungen: Vertragsstrafe bei Terminverzug",
)


def scaled_quoting_cycle(session: Any, owner: Any, title: str = "Angebote") -> Any:
    """Sabine's quoting cycle from docs/business-case.md, through every stage to a decision to scale, dated
    today (prototype started 20 days ago): in the current organization, through the cycle services."""
    from engpass.cycles import service as cycles
    from engpass.cycles.models import Category, Decision, KpiDirection, SolutionType

    cycle = cycles.create_cycle(
        session, title=title, category=Category.quoting, why="Hebel", owner_id=owner.id, actor_id=owner.id
    )
    baseline = {
        "hours_per_week": Decimal(14),
        "kpi_name": "Dauer",
        "kpi_unit": "Tage",
        "kpi_direction": KpiDirection.lower,
        "kpi_baseline": Decimal(9),
        "kpi_target": Decimal(4),
    }
    cycles.save_baseline(session, cycle, baseline, None, owner.id)
    solution = {"solution_what": "Vorlage", "solution_type": SolutionType.other, "effort_days": Decimal(6)}
    cycles.save_solution(session, cycle, solution, owner.id)
    cycles.start_prototype(session, cycle, {"prototype_start": date.today() - timedelta(days=20)}, owner.id)
    measured = {"measured_on": date.today(), "kpi_value": Decimal(4), "hours_per_week": Decimal(6)}
    cycles.add_measurement(session, cycle, measured, owner.id)
    cycles.decide(
        session,
        cycle,
        {
            "decision": Decision.scale,
            "decision_reason": "Wirkt",
            "lessons_worked": "Vorlage",
            "lessons_failed": "Export",
            "lessons_differently": "Früher messen",
        },
        owner.id,
    )
    return cycle


def named_cycle(session: Any, owner_id: int | None, title: str, *, named_days_ago: int = 0) -> Any:
    """An open cycle (beside any others) in the current organization, its bottleneck named ``named_days_ago``
    days ago: what the reminder rules count from."""
    from engpass.cycles import service as cycles
    from engpass.cycles.models import Category

    cycle = cycles.create_cycle(
        session,
        title=title,
        category=Category.other,
        why="x",
        owner_id=owner_id,
        actor_id=None,
        confirm_second_open=True,
    )
    cycle.bottleneck_at = cycle.bottleneck_at - timedelta(days=named_days_ago)
    return cycle


def save_a_baseline(session: Any, cycle: Any, actor_id: int | None) -> None:
    """The status quo quantified through the cycle service: five hours a week, a duration of nine days to
    lower."""
    from engpass.cycles import service as cycles
    from engpass.cycles.models import KpiDirection

    baseline = {
        "hours_per_week": Decimal(5),
        "kpi_name": "Dauer",
        "kpi_unit": "Tage",
        "kpi_direction": KpiDirection.lower,
        "kpi_baseline": Decimal(9),
    }
    cycles.save_baseline(session, cycle, baseline, None, actor_id)


BASELINE_FORM = {
    "hours_per_week": "14",
    "direct_cost_per_week": "",
    "kpi_name": "Angebotsdauer",
    "kpi_unit": "Tage",
    "kpi_direction": "lower",
    "kpi_baseline": "9",
    "kpi_target": "4",
    "steps-0-name": "Anfrage prüfen",
    "steps-0-role": "Vertrieb",
    "steps-0-minutes": "30",
    "steps-1-name": "Preise kalkulieren",
    "steps-1-role": "Technik",
    "steps-1-minutes": "120",
    "steps-2-name": "Angebot schreiben",
    "steps-2-role": "Vertrieb",
    "steps-2-minutes": "45",
    "steps-3-name": "",
    "steps-3-role": "",
    "steps-3-minutes": "",
}


# Sabine's forecast (docs/business-case.md, "Sabine's forecast"): 5 hours a week expected, 6 measured — what
# the cycle page, the printable business case and its PDF show once it is stated.
SCALED_FORECAST_SHEET = (
    "Prognose 5 Std., gemessen 6 Std., Abweichung +1 Std.",
    "Prognose 30.420 €, gemessen 27.040 €, Abweichung −3.380 €",
    "27.040 € gemessen ÷ 30.420 € Prognose × 100 = 88,9 %",
)
# The lead-scoring cycle of the same example: orders won per month, each worth 450 €.
LEAD_SCORING_SHEET = (
    "Zusätzlicher Deckungsbeitrag pro Jahr",
    "(9 − 6) Aufträge pro Monat × 450 € pro Einheit × 12 Monate = 16.200 €",
    "Neben der Einsparung, nicht dazugerechnet.",
    "Prognose 32.400 €, gemessen 16.200 €, Abweichung −16.200 €",
)


def state_a_forecast(session: Any, cycle: Any, actor_id: int | None) -> None:
    """Sabine's forecast on her quoting cycle, saved through the solution's service."""
    from engpass.cycles import service as cycles

    cycles.save_solution(session, cycle, {"forecast_hours_per_week": Decimal(5), "forecast_kpi": Decimal(4)}, actor_id)


def lead_scoring_cycle(session: Any, owner: Any, title: str = "Zu wenige Aufträge") -> Any:
    """A lead-scoring cycle whose effect is not hours: 6 → 9 orders won per month (forecast 12), each worth its
    contribution margin of 450 €; measured today, in the current organization, through the cycle services."""
    from engpass.cycles import service as cycles
    from engpass.cycles.models import Category, KpiDirection, Period, SolutionType

    cycle = cycles.create_cycle(
        session,
        title=title,
        category=Category.leads,
        why="Hebel",
        owner_id=owner.id,
        actor_id=owner.id,
        confirm_second_open=True,
    )
    baseline = {
        "hours_per_week": Decimal(10),
        "kpi_name": "Gewonnene Aufträge",
        "kpi_unit": "Aufträge",
        "kpi_direction": KpiDirection.higher,
        "kpi_baseline": Decimal(6),
        "kpi_target": Decimal(12),
        "kpi_value_per_unit": Decimal(450),
        "kpi_period": Period.month,
    }
    cycles.save_baseline(session, cycle, baseline, None, owner.id)
    solution = {
        "solution_what": "Lead-Scoring",
        "solution_type": SolutionType.lead_scoring,
        "effort_days": Decimal(5),
        "forecast_kpi": Decimal(12),
    }
    cycles.save_solution(session, cycle, solution, owner.id)
    cycles.start_prototype(session, cycle, {"prototype_start": date.today() - timedelta(days=20)}, owner.id)
    cycles.add_measurement(session, cycle, {"measured_on": date.today(), "kpi_value": Decimal(9)}, owner.id)
    return cycle
