"""The to-do list "Was ist zu tun?": one organization's open reminders, and all of a user's organizations'.

One clean list instead of more e-mail: every open reminder with what is missing, since when, and a
button to the form that resolves it. "Mine" holds the cycles a user is responsible for (and, for
owners and admins, the cycles nobody is); "all" the organization's. The main navigation shows no
count: it is on every page, and a number there would cost a query on each and would have to be part
of the dashboard's page-cache key — the counts are on the list's own tabs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.db import db
from engpass.formatting import day
from engpass.gateway.web import org_blueprint
from engpass.i18n import today_in
from engpass.organizations.context import current_membership, current_org
from engpass.organizations.memberships import memberships_of
from engpass.organizations.models import Organization, Role
from engpass.organizations.permissions import Action, allows, require_permission
from engpass.page_request import requested_page
from engpass.paging import page_of
from engpass.reminders.decisions import WaitingDecision, waiting_for
from engpass.reminders.rules import Reminder, addressed_to, evaluate, load
from engpass.reminders.texts import ACTION_LABELS, RULE_LABELS, describe, since_text

bp = org_blueprint("reminders", __name__)
public_bp = Blueprint("reminders_public", __name__)

VIEWS = ("mine", "all")
# One organization's list, a page: the longest open first, the rest a page away.
PAGE_SIZE = 25
# Each organization's part of the list across organizations: its longest open, then a link to its own list.
EVERYWHERE_SHOWN = 10


@dataclass(frozen=True)
class TodoList:
    """One organization's list as the pages show it."""

    org: Organization
    role: Role
    today: date
    mine: list[Reminder]
    everything: list[Reminder]
    # The decisions waiting for this member as the sponsor (or as an owner, of cycles without one).
    decisions: list[WaitingDecision]

    @property
    def can_act(self) -> bool:
        """Viewers read along; the forms behind the buttons are for members and up."""
        return allows(self.role, Action.edit_cycle)

    def shown(self, view: str) -> list[Reminder]:
        return self.mine if view == "mine" else self.everything


def _view() -> str:
    """An unknown value shows the user's own list: a hand-edited URL still gives a page."""
    value = request.args.get("show", "")
    return value if value in VIEWS else "mine"


def _todo_list(session: Session, org: Organization, role: Role) -> TodoList:
    today = today_in(org.timezone)
    situation = load(session)
    everything = evaluate(situation, today)
    mine = [reminder for reminder in everything if addressed_to(reminder, current_user.id, role)]
    return TodoList(org, role, today, mine, everything, waiting_for(situation, current_user.id, role))


@bp.context_processor
@public_bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "describe": describe,
        "since_text": since_text,
        "rule_label": lambda rule: str(RULE_LABELS[rule]),
        "action_label": lambda rule: str(ACTION_LABELS[rule]),
        "day": day,
    }


@bp.route("/todo")
@require_permission(Action.view_todo)
def todo() -> str:
    """Rules are evaluated over the open cycles (one query); only the page of the view's list is rendered."""
    number = requested_page()
    todo_list = _todo_list(db.session(), current_org, current_membership.role)
    view = _view()
    return render_template(
        "reminders/todo.html", todo=todo_list, view=view, page=page_of(todo_list.shown(view), number, PAGE_SIZE)
    )


@public_bp.route("/todo")
@login_required
def todo_everywhere() -> Any:
    """Every organization of the user, each read in a session and tenant context of its own: one query each."""
    memberships = memberships_of(db.session, current_user.id)
    if not memberships:
        return redirect(url_for("organizations_public.no_organization"))
    # The page shell lists the same memberships in its switcher.
    g.my_memberships = memberships
    # End the request's own transaction first: on SQLite every transaction takes the write lock
    # (BEGIN IMMEDIATE), so a second session would wait for this one until the busy timeout.
    db.session.commit()
    lists = []
    for membership in memberships:
        # A session per organization: nothing loaded under one can be answered from the identity map under
        # the next (docs/tenancy.md); the lists hold plain values only.
        with db.factory() as session, tenancy.tenant_context(session, membership.organization_id):
            lists.append(_todo_list(session, membership.organization, membership.role))
    view = _view()
    return render_template(
        "reminders/todo_everywhere.html",
        view=view,
        busy=[todo for todo in lists if todo.shown(view) or todo.decisions],
        quiet=[todo.org for todo in lists if not todo.shown(view) and not todo.decisions],
        mine_total=sum(len(todo.mine) for todo in lists),
        all_total=sum(len(todo.everything) for todo in lists),
        shown_max=EVERYWHERE_SHOWN,
    )
