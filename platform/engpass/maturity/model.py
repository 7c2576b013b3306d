"""Maturity (Reifegrad), computed from an organization's cycles — never self-declared.

A pure function from facts about cycles to a level, five dimension scores and the
reasons. Every threshold is here, named, and documented in docs/maturity.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from engpass.cycles.models import Decision, Stage

PROTOTYPE_LIMIT_DAYS = 28
NEXT_BOTTLENECK_DAYS = 14
YEAR_DAYS = 365
CYCLES_PER_YEAR_GOAL = 4
MEASUREMENT_GRACE_DAYS = 7

LEVEL_NAMES = {
    1: _l("Getting started"),
    2: _l("First proof"),
    3: _l("Repeatable"),
    4: _l("Systematic"),
    5: _l("Continuous"),
}
DIMENSIONS = ("focus", "measurement", "speed", "proof", "rhythm")
DIMENSION_NAMES = {
    "focus": _l("Focus"),
    "measurement": _l("Measurement"),
    "speed": _l("Speed"),
    "proof": _l("Proof"),
    "rhythm": _l("Rhythm"),
}


@dataclass(frozen=True)
class Reason:
    """Stored in snapshots as (code, params); turned into text in the reader's language when shown."""

    code: str
    params: dict[str, int | str] = field(default_factory=dict)

    def text(self) -> str:
        count = int(self.params.get("count", 0))
        dimension = str(DIMENSION_NAMES[str(self.params["dimension"])]) if "dimension" in self.params else ""
        score, goal = self.params.get("score", 0), self.params.get("goal", 0)
        match self.code:
            case "missing_proven":
                return ngettext(
                    "%(num)d more cycle proven with measured numbers",
                    "%(num)d more cycles proven with measured numbers",
                    count,
                )
            case "missing_score":
                return gettext(
                    "%(dimension)s at least %(goal)d (now %(score)d)", dimension=dimension, goal=goal, score=score
                )
            case "missing_scaled":
                return ngettext(
                    "%(num)d more solution scaled after proof", "%(num)d more solutions scaled after proof", count
                )
            case "missing_decided_last_year":
                return ngettext(
                    "%(num)d more decided cycle in the last 12 months",
                    "%(num)d more decided cycles in the last 12 months",
                    count,
                )
            case "missing_savings":
                return gettext("measured savings above zero")
            case "missing_no_warnings":
                return ngettext(
                    "no open warning sign (%(num)d is open)", "no open warning signs (%(num)d are open)", count
                )
            case "proven":
                return ngettext(
                    "%(num)d cycle proven with measured numbers", "%(num)d cycles proven with measured numbers", count
                )
            case "scaled":
                return ngettext("%(num)d solution scaled", "%(num)d solutions scaled", count)
            case "decided_last_year":
                return ngettext(
                    "%(num)d cycle decided in the last 12 months", "%(num)d cycles decided in the last 12 months", count
                )
            case "strongest":
                return gettext("strongest dimension: %(dimension)s (%(score)d)", dimension=dimension, score=score)
        return self.code

    def as_json(self) -> dict[str, object]:
        return {"code": self.code, "params": self.params}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Reason:
        return cls(str(data["code"]), dict(data.get("params") or {}))  # type: ignore[arg-type]

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class LevelRule:
    proven: int
    min_score: int  # every dimension at least this
    scaled: int = 0
    decided_last_year: int = 0
    positive_savings: bool = False
    # No open finding of the anti-pattern radar (docs/radar.md): a company failing in one of the method's
    # three ways is not systematic, however good its numbers.
    no_warnings: bool = False


# What each level asks for, on top of the level below.
LEVEL_RULES = {
    2: LevelRule(proven=1, min_score=0),
    3: LevelRule(proven=2, min_score=50),
    4: LevelRule(proven=4, min_score=65, scaled=1, no_warnings=True),
    5: LevelRule(
        proven=6,
        min_score=80,
        scaled=2,
        decided_last_year=CYCLES_PER_YEAR_GOAL,
        positive_savings=True,
        no_warnings=True,
    ),
}
# The lowest level an open radar finding keeps a company from.
WARNING_FREE_FROM_LEVEL = min(level for level, rule in LEVEL_RULES.items() if rule.no_warnings)


@dataclass(frozen=True)
class CycleFacts:
    """What maturity needs to know about one cycle."""

    id: int
    stage: Stage
    created_on: date
    has_why: bool
    focus_warning: bool
    baseline_quantified: bool  # hours, KPI and its baseline value
    has_target: bool
    prototype_start: date | None
    result_on: date | None  # first day in the result stage
    decided_on: date | None
    decision: Decision | None
    measured_savings: bool  # the latest measurement has hours: euros per year can be computed
    euros_per_year: Decimal | None
    hours_saved_per_week: Decimal | None
    previous_cycle_id: int | None


@dataclass(frozen=True)
class Maturity:
    level: int
    scores: dict[str, int]
    proven_cycles: int
    scaled_cycles: int
    decided_last_year: int
    savings_per_year: Decimal
    open_warnings: int = 0
    reasons: list[Reason] = field(default_factory=list)
    missing_for_next: list[Reason] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(LEVEL_NAMES[self.level])


def _share(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _is_proven(c: CycleFacts) -> bool:
    return c.stage == Stage.decided and c.measured_savings


def focus_score(cycles: list[CycleFacts]) -> int:
    """Share of cycles started as the only open one and tied to a stated reason (the lever)."""
    return _share(sum(1 for c in cycles if c.has_why and not c.focus_warning), len(cycles))


def measurement_score(cycles: list[CycleFacts], today: date) -> int:
    """Share of cycles (older than a week) whose status quo is quantified, with a target."""
    due = [c for c in cycles if (today - c.created_on).days >= MEASUREMENT_GRACE_DAYS or c.baseline_quantified]
    return _share(sum(1 for c in due if c.baseline_quantified and c.has_target), len(due))


def prototype_days(c: CycleFacts, today: date) -> int | None:
    if c.prototype_start is None:
        return None
    end = c.result_on or (today if c.stage == Stage.prototype else c.decided_on or today)
    return (end - c.prototype_start).days


def speed_score(cycles: list[CycleFacts], today: date) -> int:
    """Share of prototypes that reached a result within four weeks (running ones count once late)."""
    judged = []
    for c in cycles:
        days = prototype_days(c, today)
        if days is None:
            continue
        if c.result_on is None and c.stage == Stage.prototype and days <= PROTOTYPE_LIMIT_DAYS:
            continue  # still within its four weeks: not yet judged
        judged.append(days <= PROTOTYPE_LIMIT_DAYS)
    return _share(sum(judged), len(judged))


def proof_score(cycles: list[CycleFacts]) -> int:
    """Share of decided cycles closed with a measured business case."""
    decided = [c for c in cycles if c.stage == Stage.decided]
    return _share(sum(1 for c in decided if c.measured_savings), len(decided))


def rhythm_score(cycles: list[CycleFacts], today: date) -> int:
    """Half: next bottleneck picked within two weeks of a decision; half: decided cycles in the last year."""
    decided = [c for c in cycles if c.stage == Stage.decided and c.decided_on is not None]
    if not decided:
        return 0
    followers = {c.previous_cycle_id: c for c in cycles if c.previous_cycle_id is not None}
    due = [c for c in decided if (today - c.decided_on).days > NEXT_BOTTLENECK_DAYS or c.id in followers]
    picked = sum(
        1 for c in due if c.id in followers and (followers[c.id].created_on - c.decided_on).days <= NEXT_BOTTLENECK_DAYS
    )
    cadence = _share(picked, len(due)) if due else 100
    last_year = sum(1 for c in decided if (today - c.decided_on).days <= YEAR_DAYS)
    pace = min(100, _share(last_year, CYCLES_PER_YEAR_GOAL))
    return round((cadence + pace) / 2)


def compute(cycles: list[CycleFacts], today: date, open_warnings: int = 0) -> Maturity:
    """``open_warnings``: the radar's open findings, known for the current week only (docs/maturity.md)."""
    scores = {
        "focus": focus_score(cycles),
        "measurement": measurement_score(cycles, today),
        "speed": speed_score(cycles, today),
        "proof": proof_score(cycles),
        "rhythm": rhythm_score(cycles, today),
    }
    proven = sum(1 for c in cycles if _is_proven(c))
    scaled = sum(1 for c in cycles if _is_proven(c) and c.decision == Decision.scale)
    decided_last_year = sum(1 for c in cycles if c.decided_on is not None and (today - c.decided_on).days <= YEAR_DAYS)
    savings = sum((c.euros_per_year for c in cycles if _is_proven(c) and c.euros_per_year is not None), Decimal(0))
    level = 1
    for candidate in (2, 3, 4, 5):
        if _missing(LEVEL_RULES[candidate], scores, proven, scaled, decided_last_year, savings, open_warnings):
            break
        level = candidate
    reasons = _reasons(scores, proven, scaled, decided_last_year)
    missing = (
        _missing(LEVEL_RULES[level + 1], scores, proven, scaled, decided_last_year, savings, open_warnings)
        if level < 5
        else []
    )
    return Maturity(level, scores, proven, scaled, decided_last_year, savings, open_warnings, reasons, missing)


def _missing(
    rule: LevelRule,
    scores: dict[str, int],
    proven: int,
    scaled: int,
    decided_last_year: int,
    savings: Decimal,
    open_warnings: int = 0,
) -> list[Reason]:
    missing: list[Reason] = []
    if proven < rule.proven:
        missing.append(Reason("missing_proven", {"count": rule.proven - proven}))
    for name in DIMENSIONS:
        if scores[name] < rule.min_score:
            missing.append(Reason("missing_score", {"dimension": name, "goal": rule.min_score, "score": scores[name]}))
    if scaled < rule.scaled:
        missing.append(Reason("missing_scaled", {"count": rule.scaled - scaled}))
    if decided_last_year < rule.decided_last_year:
        missing.append(Reason("missing_decided_last_year", {"count": rule.decided_last_year - decided_last_year}))
    if rule.positive_savings and savings <= 0:
        missing.append(Reason("missing_savings"))
    if rule.no_warnings and open_warnings:
        missing.append(Reason("missing_no_warnings", {"count": open_warnings}))
    return missing


def _reasons(scores: dict[str, int], proven: int, scaled: int, decided_last_year: int) -> list[Reason]:
    reasons = [Reason("proven", {"count": proven})]
    if scaled:
        reasons.append(Reason("scaled", {"count": scaled}))
    if decided_last_year:
        reasons.append(Reason("decided_last_year", {"count": decided_last_year}))
    strongest = max(DIMENSIONS, key=lambda name: scores[name])
    if scores[strongest]:
        reasons.append(Reason("strongest", {"dimension": strongest, "score": scores[strongest]}))
    return reasons
