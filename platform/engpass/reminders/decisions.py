"""Decisions waiting for their sponsor: cycles whose result is measured and not decided yet.

Not a reminder with a deadline — a measured prototype may well be measured a few weeks more — but the one
thing only the sponsor (or an owner) can do, so the sponsor's to-do list and weekly digest name it. Read from
the reminders' ``Situation``, so the to-do list needs no query more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from engpass.cycles.models import Stage
from engpass.organizations.models import Role
from engpass.organizations.permissions import may_decide
from engpass.reminders.rules import Situation


@dataclass(frozen=True)
class WaitingDecision:
    cycle_id: int
    cycle_title: str
    # The latest measurement: what the decision rests on.
    last_measured: date
    # None: the cycle has no sponsor, and its owners decide.
    sponsor_id: int | None


def waiting(situation: Situation) -> list[WaitingDecision]:
    """Every measured, undecided cycle of the organization, the longest measured first."""
    found = [
        WaitingDecision(state.cycle.id, state.cycle.title, state.last_measured, state.cycle.sponsor_id)
        for state in situation.open
        if state.cycle.stage == Stage.result and state.last_measured is not None
    ]
    return sorted(found, key=lambda d: (d.last_measured, d.cycle_id))


def addressed_to(decisions: list[WaitingDecision], user_id: int, role: Role) -> list[WaitingDecision]:
    """Those this member decides as the sponsor; for an owner also those without a sponsor. An owner is not
    asked for every other sponsor's decision: the sponsor answers for it."""
    return [
        decision
        for decision in decisions
        if decision.sponsor_id in (user_id, None) and may_decide(role, user_id, decision.sponsor_id)
    ]


def waiting_for(situation: Situation, user_id: int, role: Role) -> list[WaitingDecision]:
    return addressed_to(waiting(situation), user_id, role)
