"""What the decision paper says beyond the business case's sheet: the sponsor, the rollout and what scaling
costs (``rollouts.costs``), the payback at scale (``business_case.payback_weeks``, the prototype's own formula
with the scaling costs in its inputs), each figure in words with its arithmetic, like ``cycles/figures.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.accounts.models import User
from engpass.cycles.business_case import BusinessCase, payback_weeks
from engpass.cycles.figures import Figure, weeks_text
from engpass.cycles.models import Cycle
from engpass.exports.sheet import Sheet, load_sheet
from engpass.formatting import day, money, number
from engpass.organizations.models import Organization
from engpass.rollouts.costs import MONTHS_PER_YEAR, ScalingCost, scaling_cost
from engpass.rollouts.models import Reach, Rollout


@dataclass(frozen=True)
class Paper:
    sheet: Sheet
    sponsor: User | None
    rollout: Rollout | None
    # What scaling costs, in words: once, per year, the first year; empty without a rollout.
    scaling: list[Figure]
    # The prototype's effort and payback as the business case shows them, then the payback at scale.
    payback: list[Figure]
    # The measurements' first and last day: the period the result was measured over.
    measured_from: date | None
    measured_to: date | None


def _reach(rollout: Rollout) -> str:
    count = rollout.target_count
    if rollout.reach == Reach.people:
        return ngettext("%(num)d person", "%(num)d people", count)
    if rollout.reach == Reach.sites:
        return ngettext("%(num)d site", "%(num)d sites", count)
    return ngettext("%(num)d process", "%(num)d processes", count)


def rollout_target(rollout: Rollout) -> str:
    """What the rollout should reach and by when, in a line: "40 Personen · Vertrieb · bis 31.03.2027"."""
    parts = [_reach(rollout)]
    if rollout.target_description:
        parts.append(rollout.target_description)
    parts.append(_("from %(date)s", date=day(rollout.started_on)))
    if rollout.target_on is not None:
        parts.append(_("until %(date)s", date=day(rollout.target_on)))
    return " · ".join(parts)


def scaling_figures(rollout: Rollout, cost: ScalingCost, currency: str) -> list[Figure]:
    not_given = _("Not given in the rollout.")
    per_year = None
    if cost.per_year is not None:
        per_year = _(
            "%(monthly)s per month × %(months)s = %(yearly)s",
            monthly=money(rollout.running_cost_per_month, currency),
            months=number(MONTHS_PER_YEAR),
            yearly=money(cost.per_year, currency),
        )
    first_year = None
    if cost.first_year is not None:
        first_year = _(
            "%(once)s once + %(yearly)s running = %(total)s",
            once=money(cost.one_off or Decimal(0), currency),
            yearly=money(cost.per_year or Decimal(0), currency),
            total=money(cost.first_year, currency),
        )
    return [
        Figure(
            "scaling_one_off",
            _("Cost of scaling, once"),
            money(cost.one_off, currency) if cost.one_off is not None else None,
            missing=None if cost.one_off is not None else not_given,
        ),
        Figure(
            "scaling_per_year",
            _("Running cost of scaling per year"),
            money(cost.per_year, currency) if cost.per_year is not None else None,
            per_year,
            missing=None if per_year else not_given,
        ),
        Figure(
            "scaling_first_year",
            _("Cost of scaling in the first year"),
            money(cost.first_year, currency) if cost.first_year is not None else None,
            first_year,
            missing=None if first_year else not_given,
        ),
    ]


def payback_at_scale(case_: BusinessCase, cost: ScalingCost, currency: str) -> Figure:
    """The prototype's payback formula with scaling in it: the effort and the one-off cost of scaling, earned
    back by the savings per year less the running cost of scaling."""
    label = _("Payback with scaling")
    if case_.euros_per_year is None:
        return Figure("payback_at_scale", label, None, missing=_("Needs the savings per year."))
    invested = case_.effort_cost + (cost.one_off or Decimal(0))
    savings = case_.euros_per_year - (cost.per_year or Decimal(0))
    weeks = payback_weeks(invested, savings, case_.weeks_per_year)
    if weeks is None:
        return Figure(
            "payback_at_scale",
            label,
            None,
            missing=_("No payback: the running cost of scaling eats up the savings."),
            tone="bad",
        )
    formula = _(
        "(%(effort)s effort + %(once)s scaling once) ÷ ((%(savings)s − %(yearly)s scaling per year) ÷ %(weeks)s"
        " working weeks) = %(payback)s",
        effort=money(case_.effort_cost, currency),
        once=money(cost.one_off or Decimal(0), currency),
        savings=money(case_.euros_per_year, currency),
        yearly=money(cost.per_year or Decimal(0), currency),
        weeks=number(case_.weeks_per_year),
        payback=weeks_text(weeks),
    )
    return Figure("payback_at_scale", label, weeks_text(weeks), formula, tone="good")


def load_paper(session: Session, org: Organization, cycle: Cycle) -> Paper:
    """``cycle`` (found through the tenancy layer) as the decision paper shows it, by ``org``'s settings and
    currency, in the current language."""
    sheet = load_sheet(session, org, cycle)
    rollout = session.scalars(select(Rollout).where(Rollout.cycle_id == cycle.id)).one_or_none()
    sponsor = session.get(User, cycle.sponsor_id) if cycle.sponsor_id is not None else None
    payback = [figure for figure in sheet.figures if figure.key in ("effort", "payback")]
    scaling: list[Figure] = []
    if rollout is not None:
        cost = scaling_cost(rollout)
        scaling = scaling_figures(rollout, cost, org.currency)
        if cost.first_year is not None:
            payback.append(payback_at_scale(sheet.case, cost, org.currency))
    days = [m.measured_on for m in sheet.measurements]
    return Paper(
        sheet=sheet,
        sponsor=sponsor,
        rollout=rollout,
        scaling=scaling,
        payback=payback,
        measured_from=min(days, default=None),
        measured_to=max(days, default=None),
    )
