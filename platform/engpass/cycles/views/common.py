"""What every cycle page shares: the blueprint, the helpers its templates call, the flags of a cycle, the
cycle or 404, whom "Responsible" may name, and how a section form saves, is refused or is shown again.

Every page lives under ``/o/<org_slug>/cycles`` (a seat checked, tenant set). Viewers read; members
create and edit; admins and owners also delete. The domain services check the method's rules; a refusal
rolls the transaction back and shows the rule's words on the form, with everything the user typed kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from engpass.accounts.models import User
from engpass.cycles import people, service, sponsors
from engpass.cycles.forms import (
    DECISION_HINTS,
    DECISION_LABELS,
    DIRECTION_LABELS,
    MEASURED_IN_FUTURE,
    PERIOD_LABELS,
    SOLUTION_TYPE_LABELS,
    STAGE_LABELS,
    enum_value,
)
from engpass.cycles.indirect_costs import KIND_LABELS, SOURCE_LABELS
from engpass.cycles.models import STAGE_ORDER, Cycle, Stage
from engpass.cycles.rules import PROTOTYPE_WEEKS, StageRuleViolation, prototype_overdue, prototype_too_long
from engpass.cycles.templates import CATEGORY_LABELS
from engpass.cycles.views.guidance import GUIDANCE
from engpass.db import db
from engpass.formatting import day, money, number, percent
from engpass.gateway.web import org_blueprint
from engpass.i18n import today_in
from engpass.organizations.context import current_org

bp = org_blueprint("cycles", __name__, "/cycles")


# --- small things the templates use --------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    key: str  # overdue | too_long | focus | unmeasured
    kind: str  # danger | warning | info: the CSS modifier
    label: str


def org_today() -> date:
    """Today where the organization works: a prototype is overdue by its calendar, not the server's."""
    return today_in(current_org.timezone)


def _label(labels: dict[Any, Any], value: Any) -> str:
    return str(labels.get(value, value or ""))


@bp.context_processor
def _cycle_helpers() -> dict[str, Any]:
    return {
        "stages": STAGE_ORDER,
        "stage_label": lambda stage: _label(STAGE_LABELS, stage),
        "category_label": lambda category: _label(CATEGORY_LABELS, category),
        "solution_type_label": lambda value: _label(SOLUTION_TYPE_LABELS, value),
        "direction_label": lambda value: _label(DIRECTION_LABELS, value),
        "period_label": lambda value: _label(PERIOD_LABELS, value),
        "decision_label": lambda value: _label(DECISION_LABELS, value),
        "decision_hints": DECISION_HINTS,
        "indirect_kinds": KIND_LABELS,
        "indirect_kind_label": lambda value: _label(KIND_LABELS, value),
        "indirect_source_label": lambda value: _label(SOURCE_LABELS, value),
        "number": number,
        "money": lambda value: money(value, current_org.currency),
        "percent": percent,
        "day": day,
    }


def flags_of(cycle: Cycle, measurements: int, today: date) -> list[Flag]:
    flags = []
    if prototype_overdue(cycle, today):
        flags.append(Flag("overdue", "danger", _("Prototype overdue")))
    if prototype_too_long(cycle, today):
        flags.append(Flag("too_long", "warning", _("Prototype > %(weeks)d weeks", weeks=PROTOTYPE_WEEKS)))
    if cycle.focus_warning and cycle.is_open:
        flags.append(Flag("focus", "warning", _("Focus: parallel cycle")))
    if cycle.stage in (Stage.prototype, Stage.result) and measurements == 0:
        flags.append(Flag("unmeasured", "info", _("No measurement yet")))
    return flags


def cycle_or_404(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    return cycle


def sponsor_of_cycle(cycle_id: int) -> int | None:
    """Who backs the cycle of a route, for ``require_permission``; 404 before 403 for a missing cycle."""
    return cycle_or_404(cycle_id).sponsor_id


def deciders(cycle: Cycle, sponsor: User | None = None) -> str:
    """Who may record the cycle's decision, in words for the pages that tell the others."""
    if sponsor is None and cycle.sponsor_id is not None:
        sponsor = db.session.get(User, cycle.sponsor_id)
    if sponsor is None:
        return _("An owner of the organization records the decision; this cycle has no sponsor yet.")
    return _("%(sponsor)s, the sponsor, or an owner of the organization records the decision.", sponsor=sponsor.name)


# A consultant's "Responsible" may stay empty: the people they could pick are only those already
# responsible for a cycle (cycles/people.py), and a new client has none yet.
NOBODY = 0


def member_choices() -> list[SelectChoice]:
    """The table's filter: who can be picked as responsible."""
    if g.get("consulting") is None:
        found = people.members(db.session(), current_org.id)
    else:
        found = people.responsible(db.session(), current_org.id)
    return [SelectChoice(str(user_id), name) for user_id, name in found]


def owner_choices() -> list[SelectChoice]:
    """The pickers of a cycle's "Responsible"; a consultant may leave it to the client."""
    choices = member_choices()
    if g.get("consulting") is not None:
        choices.insert(0, SelectChoice(str(NOBODY), _("Nobody responsible")))
    return choices


def sponsor_choices() -> list[SelectChoice]:
    """The pickers of a cycle's sponsor: the owners and admins. A consultant sees only those already
    backing a cycle, and may leave it to the client."""
    if g.get("consulting") is None:
        found = sponsors.candidates(db.session(), current_org.id)
        return [SelectChoice("", _("Choose a sponsor …")), *(SelectChoice(str(i), name) for i, name in found)]
    found = sponsors.sponsoring(db.session(), current_org.id)
    return [SelectChoice(str(NOBODY), _("No sponsor yet: the client names one"))] + [
        SelectChoice(str(user_id), name) for user_id, name in found
    ]


def default_sponsor() -> int | None:
    """A new cycle's sponsor before anyone picks: whoever names it when they may back it."""
    if g.get("consulting") is not None:
        return NOBODY
    return sponsors.default_sponsor(db.session(), current_org.id, current_user.id)


def self_or_nobody() -> int:
    return current_user.id if g.get("consulting") is None else NOBODY


def to_show(cycle_id: int, anchor: str | None = None) -> Response:
    return redirect(url_for("cycles.show", cycle_id=cycle_id, _anchor=anchor))


def status_of(form: Any, problems: list[Any] | None = None) -> int:
    # A form asking "are these values right?" saved nothing either.
    return 422 if form.errors or problems or getattr(form, "doubts", ()) else 200


def attempt(
    action: Callable[[], Any], cycle_id: int, anchor: str, message: str, rerender: Callable[[list[Any]], Any]
) -> Any:
    """Run a service call; on a rule's refusal roll back and show the form again with the rule's words."""
    try:
        action()
    except StageRuleViolation as refused:
        db.session.rollback()
        return rerender(refused.problems)
    except service.MeasuredInFuture:
        # The form checked the day already; this is midnight passing in between.
        db.session.rollback()
        return rerender([MEASURED_IN_FUTURE])
    db.session.commit()
    flash(message, "success")
    return to_show(cycle_id, anchor)


def render_section(
    template: str, cycle: Cycle, form: Any, problems: list[Any] | None = None, **context: Any
) -> tuple[str, int]:
    return (
        render_template(
            template,
            cycle=cycle,
            form=form,
            problems=problems or [],
            guidance=GUIDANCE.get(context.pop("guidance_stage", cycle.stage)),
            **context,
        ),
        status_of(form, problems),
    )


def form_data(form: Any, names: tuple[str, ...], enums: dict[str, Any] | None = None) -> dict[str, Any]:
    data = {name: getattr(form, name).data for name in names}
    for name, cls in (enums or {}).items():
        data[name] = enum_value(cls, data[name])
    return data
