"""Plain helpers shared by tests (fixtures live in conftest.py)."""

import os
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[1] / "platform" / "engpass" / "translations"

PASSWORD = "correct horse battery"

# Sabine's numbers (docs/business-case.md), with their arithmetic, in German and in euros: what the printable
# business case and its PDF (tests/test_export_pdf.py) both show.
SABINES_SHEET = (
    "27.040 €",
    "8 Std./Woche × 65 € × 52 Wochen = 27.040 €",
    "(4 − 9) ÷ 9 × 100 = −55,6 %",
    "6 Tage × 8 Std. × 65 € = 3.120 €",
    "3.120 € ÷ (27.040 € ÷ 52 Wochen) = 6 Wochen",
    "14 Std. vorher − 6 Std. jetzt = 8 Std. pro Woche",
    "Beträge in EUR",
    "Skalieren",
)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in page"
    return match.group(1)


def compile_catalogs() -> None:
    """Compile every .po whose .mo is missing or stale, so a fresh clone runs the tests.

    ``make install`` does the same; the .mo files are not in git.
    """
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parents[1].name)
        tmp = mo_path.with_name(f".{mo_path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)  # atomic: parallel test runs never read half a file


def sabines_cycle(session: Any, owner: Any, title: str = "Angebote") -> Any:
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
    cycles.decide(session, cycle, {"decision": Decision.scale, "decision_reason": "Wirkt"}, owner.id)
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
