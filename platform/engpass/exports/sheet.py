"""What the printable business case, its PDF and the decision paper show of a cycle, loaded in one place for
all of them — the web's routes and the API's — so they cannot show different numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from engpass.accounts.models import User
from engpass.cycles.business_case import BusinessCase, compute, status_quo_cost
from engpass.cycles.effect_figures import complete_figures
from engpass.cycles.figures import Figure, guessed_share_figure, status_quo_figure
from engpass.cycles.forms import DECISION_LABELS, DIRECTION_LABELS, SOLUTION_TYPE_LABELS, STAGE_LABELS
from engpass.cycles.models import Cycle, Measurement
from engpass.cycles.templates import CATEGORY_LABELS
from engpass.i18n import today_in
from engpass.organizations.models import Organization
from engpass.rollouts import service as rollouts
from engpass.rollouts.figures import AtScale, at_scale_sheet
from engpass.rollouts.models import Rollout


@dataclass(frozen=True)
class Labels:
    """The cycle's choices in words, in the user's language (``cycles.forms`` and ``cycles.templates`` labels)."""

    category: str
    stage: str
    decision: str | None
    direction: str | None
    solution_type: str | None


@dataclass(frozen=True)
class Sheet:
    cycle: Cycle
    owner: User | None
    case: BusinessCase
    measurements: list[Measurement]
    # ``business_case_figures`` with the additional contribution and the forecast against the result.
    figures: list[Figure]
    labels: Labels
    # The organization's date: the sheet's "as of".
    today: date
    # The status quo's cost per year and the share resting on guesses, when the status quo has a number.
    status_quo: list[Figure]
    # A scaled cycle's rollout: the prototype's effect beside the effect at scale.
    at_scale: AtScale | None


def labels_of(cycle: Cycle) -> Labels:
    return Labels(
        category=str(CATEGORY_LABELS[cycle.category]),
        stage=str(STAGE_LABELS[cycle.stage]),
        decision=str(DECISION_LABELS[cycle.decision]) if cycle.decision else None,
        direction=str(DIRECTION_LABELS[cycle.kpi_direction]) if cycle.kpi_direction else None,
        solution_type=str(SOLUTION_TYPE_LABELS[cycle.solution_type]) if cycle.solution_type else None,
    )


def load_sheet(session: Session, org: Organization, cycle: Cycle) -> Sheet:
    """``cycle`` (found through the tenancy layer) with its figures by ``org``'s settings and currency, in the
    current language."""
    measurements = list(cycle.measurements)
    rate, currency, weeks = org.default_hourly_rate, org.currency, org.working_weeks_per_year
    case = compute(cycle, measurements, rate, weeks)
    cost = status_quo_cost(cycle, rate, weeks)
    status_quo = []
    if cost is not None:
        status_quo.append(status_quo_figure(cycle, cost, rate, currency))
        if (guessed := guessed_share_figure(cost, currency)) is not None:
            status_quo.append(guessed)
    return Sheet(
        cycle=cycle,
        owner=session.get(User, cycle.owner_id) if cycle.owner_id is not None else None,
        case=case,
        measurements=measurements,
        figures=complete_figures(cycle, measurements, case, rate, weeks, currency),
        labels=labels_of(cycle),
        today=today_in(org.timezone),
        status_quo=status_quo,
        at_scale=at_scale_sheet(cycle, rollout, case, org) if (rollout := _rollout(session, cycle)) else None,
    )


def _rollout(session: Session, cycle: Cycle) -> Rollout | None:
    return rollouts.rollout_of(session, cycle) if rollouts.is_scaled(cycle) else None
