"""The business case in words: each figure with the arithmetic behind it, or what it still needs.

Shared by the cycle page, the decision form and the printable business case (``engpass.exports``), so the
three always show the same numbers and the same formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import ngettext

from engpass.cycles import indirect_costs
from engpass.cycles.business_case import BusinessCase, StatusQuoCost, latest
from engpass.cycles.models import Cycle, Measurement
from engpass.formatting import money, number, percent, signed_percent


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: str | None
    formula: str | None = None
    missing: str | None = None
    tone: str | None = None  # good | bad


def _hours(value: Decimal | None) -> str:
    return _("%(value)s h", value=number(value))


def _plural_n(value: Decimal) -> int:
    # gettext's plural rules take whole numbers; "1,5 weeks" reads as plural.
    return int(value) if value == int(value) else 2


def weeks_text(value: Decimal) -> str:
    """Weeks in the words of the page: "1 Woche", "6 Wochen", "6,5 Wochen"."""
    return ngettext("%(value)s week", "%(value)s weeks", _plural_n(value), value=number(value))


def _days(value: Decimal) -> str:
    return ngettext("%(value)s day", "%(value)s days", _plural_n(value), value=number(value))


def status_quo_figure(cycle: Cycle, cost: StatusQuoCost, hourly_rate: Decimal, currency: str) -> Figure:
    """The yearly cost of the status quo with its parts, each part's formula naming the working weeks."""
    weeks = number(cost.weeks_per_year)
    terms = []
    if cost.hours_cost is not None:
        terms.append(
            _(
                "%(hours)s/week × %(rate)s × %(weeks)s working weeks = %(cost)s",
                hours=_hours(cycle.hours_per_week),
                rate=money(hourly_rate, currency),
                weeks=weeks,
                cost=money(cost.hours_cost, currency),
            )
        )
    if cost.direct_cost is not None:
        terms.append(
            _(
                "%(weekly)s direct cost/week × %(weeks)s working weeks = %(cost)s",
                weekly=money(cycle.direct_cost_per_week, currency),
                weeks=weeks,
                cost=money(cost.direct_cost, currency),
            )
        )
    for item_cost in cost.indirect_items:
        terms.append(
            _(
                "%(name)s (%(source)s): %(formula)s",
                name=indirect_costs.name(item_cost.item),
                source=indirect_costs.source_label(item_cost.item),
                formula=indirect_costs.formula(item_cost, hourly_rate, cost.weeks_per_year, currency),
            )
        )
    return Figure(
        "status_quo", _("Cost of the status quo per year"), money(cost.total, currency), "; ".join(terms), tone="bad"
    )


def guessed_share_figure(cost: StatusQuoCost, currency: str) -> Figure | None:
    """How much of the status quo's yearly cost rests on indirect cost items someone guessed, and which;
    None while the cycle has no indirect cost items."""
    if not cost.indirect_items:
        return None
    label = _("Resting on guesses")
    names = indirect_costs.guessed_names(cost.indirect_items)
    if not names:
        return Figure("guessed_share", label, percent(Decimal(0)), _("No indirect cost item is a guess."))
    value = percent(cost.guessed_share) if cost.guessed_share is not None else None
    return Figure(
        "guessed_share",
        label,
        value,
        _(
            "%(guessed)s of %(total)s rest on guesses: %(names)s",
            guessed=money(cost.guessed_cost, currency),
            total=money(cost.total, currency),
            names=", ".join(names),
        ),
        missing=None if value is not None else _("Not defined for a status quo that costs nothing."),
    )


def business_case_figures(
    cycle: Cycle, measurements: list[Measurement], case_: BusinessCase, hourly_rate: Decimal, currency: str
) -> list[Figure]:
    """Every figure of the business case with the arithmetic behind it, or what it still needs.

    ``hourly_rate`` and ``currency`` are the organization's, the ones ``case_`` was computed with.
    """
    rate = Decimal(hourly_rate)
    cur = currency
    current = latest(measurements)
    no_measurement = _("Needs a measurement of the result.")
    figures = []

    # Hours saved per week.
    if case_.hours_saved_per_week is not None and current is not None:
        figures.append(
            Figure(
                "hours",
                _("Hours saved per week"),
                _hours(case_.hours_saved_per_week),
                _(
                    "%(before)s before − %(now)s now = %(saved)s per week",
                    before=_hours(cycle.hours_per_week),
                    now=_hours(current.hours_per_week),
                    saved=_hours(case_.hours_saved_per_week),
                ),
                tone="good" if case_.hours_saved_per_week > 0 else "bad" if case_.hours_saved_per_week < 0 else None,
            )
        )
    else:
        if current is None:
            missing = no_measurement
        elif cycle.hours_per_week is None:
            missing = _("Needs the hours per week of the status quo.")
        else:
            missing = _("Needs the hours per week in the latest measurement.")
        figures.append(Figure("hours", _("Hours saved per week"), None, missing=missing))
    hours_missing = figures[-1].missing

    # Euros per year.
    if case_.euros_per_year is not None:
        terms = []
        if case_.hours_saved_per_week is not None:
            terms.append(
                _(
                    "%(hours)s/week × %(rate)s",
                    hours=_hours(case_.hours_saved_per_week),
                    rate=money(rate, cur),
                )
            )
        if case_.cost_saved_per_week:
            terms.append(_("%(cost)s cost saved/week", cost=money(case_.cost_saved_per_week, cur)))
        weekly = terms[0] if len(terms) == 1 else "(" + " + ".join(terms) + ")"
        formula = _("%(weekly)s × %(weeks)s working weeks", weekly=weekly, weeks=number(case_.weeks_per_year))
        if case_.running_cost_per_year:
            formula += " − " + _("%(cost)s running cost/year", cost=money(case_.running_cost_per_year, cur))
        formula += " = " + money(case_.euros_per_year, cur)
        figures.append(
            Figure(
                "euros",
                _("Savings per year"),
                money(case_.euros_per_year, cur),
                formula,
                tone="good" if case_.euros_per_year > 0 else "bad" if case_.euros_per_year < 0 else None,
            )
        )
    else:
        figures.append(Figure("euros", _("Savings per year"), None, missing=hours_missing or no_measurement))

    # KPI change against the baseline.
    if case_.kpi_change_percent is not None and case_.kpi_current is not None:
        figures.append(
            Figure(
                "kpi",
                _("KPI change"),
                signed_percent(case_.kpi_change_percent),
                _(
                    "(%(now)s − %(baseline)s) ÷ %(baseline)s × 100 = %(change)s",
                    now=number(case_.kpi_current),
                    baseline=number(cycle.kpi_baseline),
                    change=signed_percent(case_.kpi_change_percent),
                ),
                tone={True: "good", False: "bad"}.get(case_.kpi_improved),
            )
        )
    else:
        if current is None:
            missing = no_measurement
        elif cycle.kpi_baseline is None:
            missing = _("Needs the KPI's baseline value.")
        else:
            missing = _("Not defined for a baseline of 0.")
        figures.append(Figure("kpi", _("KPI change"), None, missing=missing))

    # Share of the way to the target.
    if case_.target_reached_percent is not None and case_.kpi_current is not None:
        figures.append(
            Figure(
                "target",
                _("Target reached"),
                percent(case_.target_reached_percent),
                _(
                    "(%(now)s − %(baseline)s) ÷ (%(target)s − %(baseline)s) × 100 = %(share)s",
                    now=number(case_.kpi_current),
                    baseline=number(cycle.kpi_baseline),
                    target=number(cycle.kpi_target),
                    share=percent(case_.target_reached_percent),
                ),
                tone="good" if case_.target_reached_percent >= 100 else None,
            )
        )
    else:
        if current is None:
            missing = no_measurement
        elif cycle.kpi_target is None:
            missing = _("Needs a target value for the KPI.")
        else:
            missing = _("The target equals the baseline.")
        figures.append(Figure("target", _("Target reached"), None, missing=missing))

    # Effort and payback.
    effort_formula = None
    if cycle.effort_days is not None:
        effort_formula = _(
            "%(days)s × 8 h × %(rate)s",
            days=_days(Decimal(cycle.effort_days)),
            rate=money(rate, cur),
        )
        if cycle.one_off_cost:
            effort_formula += " + " + _("%(cost)s one-off", cost=money(cycle.one_off_cost, cur))
        effort_formula += " = " + money(case_.effort_cost, cur)
    elif cycle.one_off_cost:
        effort_formula = _("%(cost)s one-off", cost=money(cycle.one_off_cost, cur))
    figures.append(
        Figure(
            "effort",
            _("Effort"),
            money(case_.effort_cost, cur) if effort_formula else None,
            effort_formula,
            missing=None if effort_formula else _("Needs the solution's effort."),
        )
    )
    if case_.payback_weeks is not None and case_.euros_per_year is not None:
        figures.append(
            Figure(
                "payback",
                _("Payback"),
                weeks_text(case_.payback_weeks),
                _(
                    "%(effort)s ÷ (%(savings)s ÷ %(weeks)s working weeks) = %(payback)s",
                    effort=money(case_.effort_cost, cur),
                    savings=money(case_.euros_per_year, cur),
                    weeks=number(case_.weeks_per_year),
                    payback=weeks_text(case_.payback_weeks),
                ),
                tone="good",
            )
        )
    else:
        if case_.euros_per_year is None:
            missing = _("Needs the savings per year.")
        else:
            missing = _("No payback: the solution saves nothing yet.")
        figures.append(Figure("payback", _("Payback"), None, missing=missing))
    return figures
