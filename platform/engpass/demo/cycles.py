"""Demo cycles: realistic chains with months of measurements, written with historical dates."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.cycles import indirect_costs
from engpass.cycles.models import (
    STAGE_ORDER,
    Category,
    CostSource,
    Cycle,
    Decision,
    IndirectCostItem,
    IndirectKind,
    KpiDirection,
    Measurement,
    Period,
    ProcessStep,
    SolutionType,
    Stage,
    StageChange,
)
from engpass.demo.lessons import LESSONS
from engpass.organizations.models import Organization


@dataclass(frozen=True)
class DemoCycle:
    title: str
    category: Category
    why: str
    hours: int
    cost: int
    kpi: tuple[str, str, KpiDirection, float, float]  # name, unit, direction, baseline, target
    solution: tuple[str, SolutionType, int, int, int]  # what, type, effort days, one-off, running/month
    reached: Stage
    achieved: float  # share of the way from baseline to target at the last measurement
    hours_after: int
    decision: Decision | None = None
    reason: str = ""
    steps: tuple[tuple[str, str, int], ...] = field(default_factory=tuple)
    # The team's forecast at the solution step: hours per week after, and the KPI's value after.
    forecast: tuple[int | None, float | None] = (None, None)
    value: tuple[int, Period] | None = None  # what one unit of the KPI is worth, and what span it counts per


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


# What the errors of each category are called in a company.
ERROR_LABELS = {
    Category.quoting: "Nacharbeit an Angeboten",
    Category.leads: "Fehlerhafte Lead-Daten im CRM",
    Category.order_errors: "Reklamationen und Gutschriften",
    Category.reporting: "Korrekturen an Berichten",
    Category.support: "Rückfragen nach falschen Auskünften",
    Category.other: "Nacharbeit",
}


def _indirect_items(spec: DemoCycle) -> list[IndirectCostItem]:
    """What the bottleneck costs besides, scaled to its direct cost: errors counted in the books, lost orders
    and waiting time estimated, and a contractual penalty that is someone's guess."""
    base = Decimal(spec.cost // 3)
    # label, kind, period, source, note, quantity, unit value, people affected
    rows = [
        (ERROR_LABELS[spec.category], IndirectKind.errors, Period.month, CostSource.measured,
         "Gutschriften im ERP", 4, base, None),
        ("Aufträge an schnellere Wettbewerber", IndirectKind.lost_orders, Period.year, CostSource.estimated,
         "Vertrieb, verlorene Angebote", 2, base * 8, None),
        ("Warten auf Rückmeldungen", IndirectKind.waiting, Period.week, CostSource.estimated,
         "Stichprobe über zwei Wochen", 1, None, 2),
        ("Vertragsstrafe bei Verzug", IndirectKind.penalties, Period.year, CostSource.guess,
         "Einschätzung der Geschäftsführung", 1, base * 10, None),
    ]  # fmt: skip
    return [
        IndirectCostItem(
            position=position,
            label=label,
            kind=kind,
            period=period,
            source=source,
            source_note=note,
            quantity=Decimal(quantity),
            unit_value=value,
            people_affected=people,
        )
        for position, (label, kind, period, source, note, quantity, value, people) in enumerate(rows, start=1)
    ]


@dataclass(frozen=True)
class _Plan:
    start: date
    offsets: dict[Stage, int]
    measure_days: list[int]


def _plan(chain: list[DemoCycle], rng: random.Random) -> tuple[list[_Plan], int]:
    """Day offsets for every cycle, relative to the chain's first day; returns the plans and the span."""
    plans, day = [], 0
    for _spec in chain:
        result = 14 + rng.randint(17, 30)
        measure_days = [result + 7 * i for i in range(rng.randint(6, 12))]
        offsets = {
            Stage.bottleneck: 0,
            Stage.baseline: 3,
            Stage.solution: 10,
            Stage.prototype: 14,
            Stage.result: result,
            Stage.decided: measure_days[-1] + rng.randint(2, 6),
        }
        plans.append(_Plan(date.min + timedelta(days=day), offsets, measure_days))
        day += offsets[Stage.decided] + rng.randint(10, 20)
    last = plans[-1]
    span = (last.start - date.min).days + last.offsets[Stage.decided]
    return plans, span


def build_chain(
    session: Session,
    chain: list[DemoCycle],
    end: date,
    owner_id: int,
    seed: int,
    quiet_days: int = 0,
    sponsor_id: int | None = None,
) -> list[Cycle]:
    """Create the chain so that its last planned day is ``end``; each cycle starts after the previous decision.

    ``quiet_days``: no measurements in that many days before ``end`` (a cycle in the result stage is then due
    for one), yet at least one per measured cycle. ``sponsor_id`` backs every cycle of the chain.
    """
    rng = random.Random(seed)
    plans, span = _plan(chain, rng)
    first_day = end - timedelta(days=span)
    built: list[Cycle] = []
    for spec, plan in zip(chain, plans, strict=True):
        day = first_day + (plan.start - date.min)
        offsets = plan.offsets
        name, unit, direction, baseline, target = spec.kpi
        what, solution_type, effort, one_off, running = spec.solution
        cycle = Cycle(
            title=spec.title,
            category=spec.category,
            why=spec.why,
            owner_id=owner_id,
            sponsor_id=sponsor_id,
            created_by_id=owner_id,
            previous_cycle_id=built[-1].id if built else None,
            stage=spec.reached,
            created_at=_at(day),
            updated_at=_at(day),
        )
        reached = STAGE_ORDER.index(spec.reached)
        for stage in STAGE_ORDER[: reached + 1]:
            setattr(cycle, f"{stage.value}_at", _at(min(end, day + timedelta(days=offsets[stage]))))
        if reached >= 1:
            cycle.hours_per_week = Decimal(spec.hours)
            cycle.direct_cost_per_week = Decimal(spec.cost)
            cycle.kpi_name, cycle.kpi_unit, cycle.kpi_direction = name, unit, direction
            cycle.kpi_baseline, cycle.kpi_target = Decimal(str(baseline)), Decimal(str(target))
            if spec.value is not None:
                cycle.kpi_value_per_unit, cycle.kpi_period = Decimal(spec.value[0]), spec.value[1]
        if reached >= 2:
            cycle.solution_what, cycle.solution_type = what, solution_type
            cycle.expected_effect = f"{name}: {baseline:g} → {target:g} {unit}"
            cycle.effort_days, cycle.one_off_cost = Decimal(effort), Decimal(one_off)
            cycle.running_cost_per_month = Decimal(running)
            hours_after, kpi_after = spec.forecast
            cycle.forecast_hours_per_week = Decimal(hours_after) if hours_after is not None else None
            cycle.forecast_kpi = Decimal(str(kpi_after)) if kpi_after is not None else None
        if reached >= 3:
            cycle.prototype_start = min(end, day + timedelta(days=offsets[Stage.prototype]))
            cycle.prototype_target = cycle.prototype_start + timedelta(weeks=4)
        if reached == 5:
            cycle.decision, cycle.decision_reason = spec.decision, spec.reason
            cycle.lessons_worked, cycle.lessons_failed, cycle.lessons_differently = LESSONS[spec.title]
        items = _indirect_items(spec) if reached >= 1 else []
        if items:
            # The weekly figure the service derives from the items, by the organization's rate and weeks.
            org = session.get(Organization, tenancy.require_org_id())
            assert org is not None
            costs = indirect_costs.item_costs(items, org.default_hourly_rate, org.working_weeks_per_year)
            cycle.indirect_cost_per_week = indirect_costs.weekly(
                indirect_costs.per_year(costs), org.working_weeks_per_year
            )
        session.add(cycle)
        session.flush()
        for item in items:
            item.cycle_id = cycle.id
            session.add(item)
        for position, (step, role, minutes) in enumerate(spec.steps, start=1):
            session.add(ProcessStep(cycle_id=cycle.id, position=position, name=step, role=role, minutes=minutes))
        previous = None
        for stage in STAGE_ORDER[: reached + 1]:
            session.add(
                StageChange(
                    cycle_id=cycle.id,
                    from_stage=previous,
                    to_stage=stage,
                    actor_id=owner_id,
                    created_at=getattr(cycle, f"{stage.value}_at"),
                )
            )
            previous = stage
        if reached >= 4:
            last_day = end - timedelta(days=quiet_days)
            days = [d for d in plan.measure_days if day + timedelta(days=d) <= last_day]
            _measure(session, cycle, spec, day, days or plan.measure_days[:1], rng, owner_id)
        built.append(cycle)
    session.flush()
    return built


def _measure(
    session: Session,
    cycle: Cycle,
    spec: DemoCycle,
    day: date,
    measure_days: list[int],
    rng: random.Random,
    owner_id: int,
) -> None:
    _, _, _, baseline, target = spec.kpi
    count = len(measure_days)
    for i, offset in enumerate(measure_days, start=1):
        progress = spec.achieved * i / count
        kpi = baseline + (target - baseline) * progress * rng.uniform(0.9, 1.1)
        hours = spec.hours + (spec.hours_after - spec.hours) * progress
        session.add(
            Measurement(
                cycle_id=cycle.id,
                measured_on=day + timedelta(days=offset),
                kpi_value=Decimal(f"{kpi:.2f}"),
                hours_per_week=Decimal(f"{hours:.1f}"),
                note="",
                created_by_id=owner_id,
                created_at=_at(day + timedelta(days=offset)),
            )
        )


L, H = KpiDirection.lower, KpiDirection.higher

METALLBAU = [
    DemoCycle(
        "Angebote dauern 9 Tage",
        Category.quoting,
        "Wir verlieren Aufträge, weil Angebote zu spät kommen.",
        14,
        400,
        ("Angebotsdauer", "Tage", L, 9, 4),
        ("Angebotsvorlage mit Kalkulationsblatt, an das CRM angebunden", SolutionType.email_automation, 6, 0, 0),
        Stage.decided,
        1.0,
        6,
        Decision.scale,
        "Angebote in 4 Tagen, 8 Stunden pro Woche gespart.",
        (
            ("Anfrage prüfen", "Vertrieb", 30),
            ("Zeichnung kalkulieren", "Technik", 240),
            ("Angebot schreiben", "Vertrieb", 60),
            ("Freigabe", "Geschäftsführung", 20),
        ),
        forecast=(6, 4),
    ),
    DemoCycle(
        "Zu wenige qualifizierte Leads",
        Category.leads,
        "Der Vertrieb telefoniert kalte Listen ab.",
        10,
        150,
        ("Qualifizierte Leads pro Woche", "Leads", H, 6, 12),
        ("Lead-Scoring für Anfragen über die Website", SolutionType.lead_scoring, 5, 800, 40),
        Stage.decided,
        0.8,
        7,
        Decision.iterate,
        "Mehr Leads, aber das Scoring braucht bessere Kriterien.",
        forecast=(6, 12),
    ),
    # An effect that is not hours: each additional order won is worth its average contribution margin.
    DemoCycle(
        "Lead-Scoring nachschärfen",
        Category.leads,
        "Zweite Runde: mehr Anfragen zu Aufträgen machen, nicht nur mehr Anfragen.",
        7,
        120,
        ("Gewonnene Aufträge pro Monat", "Aufträge", H, 8, 12),
        ("Scoring-Kriterien aus gewonnenen Aufträgen ableiten", SolutionType.lead_scoring, 3, 0, 40),
        Stage.result,
        0.6,
        5,
        forecast=(5, 12),
        value=(2400, Period.month),
    ),
]

LOGISTIK = [
    DemoCycle(
        "Fehlerquote in der Auftragsabwicklung 7 %",
        Category.order_errors,
        "Jeder Fehler kostet eine Nachlieferung.",
        18,
        900,
        ("Fehlerquote", "%", L, 7, 2),
        ("Plausibilitätsprüfung im Auftragsformular", SolutionType.other, 8, 1500, 0),
        Stage.decided,
        0.9,
        10,
        Decision.scale,
        "Fehlerquote halbiert, Nachlieferungen deutlich seltener.",
        forecast=(10, 2),
    ),
    DemoCycle(
        "Wochenreporting kostet 6 Stunden",
        Category.reporting,
        "Die Zahlen werden von Hand zusammenkopiert.",
        6,
        0,
        ("Reporting-Stunden pro Woche", "Stunden", L, 6, 1),
        ("Automatisierter Wochenbericht aus dem ERP", SolutionType.automated_report, 4, 0, 25),
        Stage.prototype,
        0,
        6,
    ),
]

KANZLEI = [
    DemoCycle(
        "Monatsreporting für Mandanten dauert zu lange",
        Category.reporting,
        "Mandanten warten bis Monatsmitte auf ihre Auswertung.",
        22,
        300,
        ("Reporting-Stunden pro Woche", "Stunden", L, 22, 8),
        ("Automatisierte Mandantenauswertung", SolutionType.automated_report, 10, 2000, 80),
        Stage.decided,
        1.0,
        9,
        Decision.scale,
        "14 Stunden pro Woche frei für Beratung.",
        forecast=(8, 8),
    ),
    DemoCycle(
        "Belege kommen unvollständig",
        Category.other,
        "Rückfragen kosten jede Woche Stunden.",
        9,
        0,
        ("Rückfragen pro Woche", "Rückfragen", L, 40, 15),
        ("E-Mail-Erinnerung mit Checkliste", SolutionType.email_automation, 3, 0, 10),
        Stage.decided,
        0.3,
        8,
        Decision.drop,
        "Kaum Wirkung: Mandanten lesen die Mails nicht.",
        forecast=(5, 15),
    ),
    DemoCycle(
        "Terminvergabe per Telefon",
        Category.support,
        "Das Sekretariat ist den halben Tag am Telefon.",
        12,
        0,
        ("Anrufe pro Tag", "Anrufe", L, 35, 15),
        ("Online-Terminbuchung", SolutionType.assistant, 4, 500, 30),
        Stage.solution,
        0,
        12,
    ),
]

SHOP = [
    DemoCycle(
        "Support antwortet erst nach 30 Stunden",
        Category.support,
        "Schlechte Bewertungen wegen langsamer Antworten.",
        25,
        200,
        ("Reaktionszeit", "Stunden", L, 30, 6),
        ("Antwortvorlagen und Assistent für häufige Fragen", SolutionType.assistant, 7, 1200, 60),
        Stage.decided,
        1.0,
        15,
        Decision.scale,
        "Reaktionszeit unter 8 Stunden, Bewertungen besser.",
        forecast=(12, 6),
    ),
    DemoCycle(
        "Retourenquote zu hoch",
        Category.order_errors,
        "Jede dritte Retoure: falsche Größe.",
        15,
        1200,
        ("Retourenquote", "%", L, 18, 10),
        ("Größenberater im Shop", SolutionType.assistant, 6, 900, 50),
        Stage.decided,
        0.7,
        11,
        Decision.iterate,
        "Besser, aber noch nicht am Ziel.",
        forecast=(10, 10),
    ),
    DemoCycle(
        "Größenberater verbessern",
        Category.order_errors,
        "Zweite Runde mit Kundendaten.",
        11,
        900,
        ("Retourenquote", "%", L, 13, 9),
        ("Größenempfehlung aus Bestellhistorie", SolutionType.other, 5, 0, 50),
        Stage.result,
        0.5,
        9,
        forecast=(9, 9),
    ),
    DemoCycle(
        "Newsletter bringt kaum Umsatz",
        Category.leads,
        "Öffnungsraten fallen seit einem Jahr.",
        5,
        100,
        ("Umsatz aus Newsletter pro Woche", "€", H, 800, 2000),
        ("", SolutionType.other, 0, 0, 0),
        Stage.bottleneck,
        0,
        5,
    ),
]

CHAINS = {
    "Müller Metallbau GmbH": METALLBAU,
    "Schneider Logistik KG": LOGISTIK,
    "Kanzlei Hofmann Steuerberatung": KANZLEI,
    "Krause Outdoor Online-Shop": SHOP,
}
