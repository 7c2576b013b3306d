"""Who may do what in an organization: one table of role × action, enforced in one place.

Every organization route declares its action with ``require_permission``; templates ask the same
table through ``can``. The table is a function of the membership's role only (``g.membership.role``),
so whatever sets that role — a membership, or a consultant's effective role in a client — gets the
same answers. ``docs/permissions.md`` shows this table; a test compares the two.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, g, request
from flask_babel import lazy_gettext as _l

from engpass.organizations.models import Role

F = TypeVar("F", bound=Callable[..., Any])


class Action(enum.StrEnum):
    view_dashboard = "view_dashboard"
    view_cycles = "view_cycles"
    view_templates = "view_templates"
    view_todo = "view_todo"
    view_team = "view_team"
    leave_organization = "leave_organization"
    create_cycle = "create_cycle"
    edit_cycle = "edit_cycle"
    decide_cycle = "decide_cycle"
    record_measurement = "record_measurement"
    delete_cycle = "delete_cycle"
    manage_templates = "manage_templates"
    make_template = "make_template"
    edit_org_settings = "edit_org_settings"
    view_audit_log = "view_audit_log"
    invite_members = "invite_members"
    change_roles = "change_roles"
    remove_members = "remove_members"
    manage_owners = "manage_owners"
    transfer_ownership = "transfer_ownership"
    delete_organization = "delete_organization"
    require_two_factor = "require_two_factor"
    configure_sso = "configure_sso"
    view_portfolio = "view_portfolio"
    manage_consultants = "manage_consultants"
    manage_clients = "manage_clients"
    export_cycles = "export_cycles"
    export_organization = "export_organization"
    use_api = "use_api"
    manage_api_tokens = "manage_api_tokens"
    view_candidates = "view_candidates"
    propose_candidate = "propose_candidate"
    manage_candidates = "manage_candidates"
    manage_webhooks = "manage_webhooks"


_EVERYONE = frozenset(Role)
_MEMBERS = frozenset({Role.owner, Role.admin, Role.member})
_ADMINS = frozenset({Role.owner, Role.admin})
_OWNERS = frozenset({Role.owner})

# The matrix. Every action is listed: a missing one would be a KeyError, never a silent "allowed".
MATRIX: Mapping[Action, frozenset[Role]] = {
    Action.view_dashboard: _EVERYONE,
    Action.view_cycles: _EVERYONE,
    Action.view_templates: _EVERYONE,
    Action.view_todo: _EVERYONE,
    Action.view_team: _EVERYONE,
    Action.leave_organization: _EVERYONE,
    Action.create_cycle: _MEMBERS,
    Action.edit_cycle: _MEMBERS,
    # The decision at the end of a cycle (scale, iterate, drop): the owners' for every cycle; a cycle's
    # sponsor, an admin, decides it too (``may_decide``) — the one rule that depends on the object.
    Action.decide_cycle: _OWNERS,
    Action.record_measurement: _MEMBERS,
    Action.delete_cycle: _ADMINS,
    Action.manage_templates: _ADMINS,
    # A decided cycle's numbers and lessons as the organization's template: the owners', who stand for what
    # the company holds as proven.
    Action.make_template: _OWNERS,
    Action.edit_org_settings: _ADMINS,
    Action.view_audit_log: _ADMINS,
    Action.invite_members: _ADMINS,
    Action.change_roles: _ADMINS,
    Action.remove_members: _ADMINS,
    # Making, unmaking or removing an owner, and inviting one: only owners, so an admin can never
    # raise anyone (themselves included) above admin.
    Action.manage_owners: _OWNERS,
    Action.transfer_ownership: _OWNERS,
    # Deleting the organization with all its data: the owners', who answer for it (docs/privacy.md).
    Action.delete_organization: _OWNERS,
    # Whether everyone must use two-factor authentication here: the owners', like the organization itself.
    Action.require_two_factor: _OWNERS,
    # Single sign-on (docs/sso.md): which provider speaks for the organization's people, likewise.
    Action.configure_sso: _OWNERS,
    # Consulting (docs/consultants.md): a consultancy's portfolio is for all its people; granting a
    # consultancy access to a company, and a consultancy's code and requests, for admins.
    Action.view_portfolio: _EVERYONE,
    Action.manage_consultants: _ADMINS,
    Action.manage_clients: _ADMINS,
    # Exports (docs/exports.md): whoever sees the cycles may take them along as a file; a copy of all the
    # organization's data, people and audit log included, only its owners.
    Action.export_cycles: _EVERYONE,
    Action.export_organization: _OWNERS,
    # One's own personal access tokens; each acts with its user's role, so a viewer's only reads.
    Action.use_api: _EVERYONE,
    # Everyone else's tokens here, to see and revoke (someone left the project, a script went wild); an
    # owner's token only by an owner, as with removing members.
    Action.manage_api_tokens: _ADMINS,
    # Bottleneck candidates (docs/candidates.md): everyone reads the backlog; whoever may edit a cycle may
    # propose one (and edit their own while open); ranking decisions — merge, pick, dismiss, reopen, edit
    # anyone's — are the owners' and admins', who decide which bottleneck the company works on.
    Action.view_candidates: _EVERYONE,
    Action.propose_candidate: _MEMBERS,
    Action.manage_candidates: _ADMINS,
    # Webhooks (docs/webhooks.md) send the organization's cycles to another system: the admins' decision.
    Action.manage_webhooks: _ADMINS,
}

DESCRIPTIONS: Mapping[Action, str] = {
    Action.view_dashboard: _l("See the overview (dashboard)"),
    Action.view_cycles: _l("See cycles: board, table, cycle pages"),
    Action.view_templates: _l("See the templates per category"),
    Action.view_todo: _l("See the to-do list"),
    Action.view_team: _l("See the team"),
    Action.leave_organization: _l("Leave the organization"),
    Action.create_cycle: _l("Name a bottleneck (new cycle, next cycle)"),
    Action.edit_cycle: _l("Edit a cycle: bottleneck, sponsor, baseline, solution, prototype, stage"),
    Action.decide_cycle: _l("Record the decision of any cycle (its sponsor, an admin, decides it too)"),
    Action.record_measurement: _l("Add, edit and delete measurements"),
    Action.delete_cycle: _l("Delete a cycle"),
    Action.manage_templates: _l("Add and delete templates"),
    Action.make_template: _l("Make a template from a decided cycle, with its measured numbers"),
    Action.edit_org_settings: _l("Change the organization's settings"),
    Action.view_audit_log: _l("Read the audit log"),
    Action.invite_members: _l("Invite people, resend and cancel invitations"),
    Action.change_roles: _l("Change roles up to admin"),
    Action.remove_members: _l("Remove members"),
    Action.manage_owners: _l("Make, unmake, invite and remove owners"),
    Action.transfer_ownership: _l("Transfer ownership"),
    Action.delete_organization: _l("Delete the organization with all its data"),
    Action.require_two_factor: _l("Require two-factor authentication of everyone"),
    Action.configure_sso: _l("Set up single sign-on: provider, domains, requirement"),
    Action.view_portfolio: _l("See the portfolio of clients (consultancies)"),
    Action.manage_consultants: _l("Grant, approve and revoke consultancies' access (companies)"),
    Action.manage_clients: _l("Invitation code and access requests to clients (consultancies)"),
    Action.export_cycles: _l("Export cycles, measurements and business cases (CSV, Excel)"),
    Action.export_organization: _l("Export all of the organization's data (ZIP)"),
    Action.use_api: _l("Create and revoke one's own API tokens"),
    Action.manage_api_tokens: _l("See and revoke everyone's API tokens (an owner's only as an owner)"),
    Action.view_candidates: _l("See the backlog of bottleneck candidates"),
    Action.propose_candidate: _l("Propose a bottleneck candidate, edit one's own while open"),
    Action.manage_candidates: _l("Merge, pick, dismiss and reopen candidates, edit anyone's"),
    Action.manage_webhooks: _l("Add, change and delete webhooks, see their deliveries"),
}

ROLE_ORDER: tuple[Role, ...] = (Role.owner, Role.admin, Role.member, Role.viewer)

# The client's consultants page promises that a consultancy never sees the client's members: the team's
# pages answer a consultant 404, whatever the effective role (docs/consultants.md).
MEMBERS_ONLY: frozenset[Action] = frozenset(
    {
        Action.view_team,
        Action.leave_organization,
        Action.invite_members,
        Action.change_roles,
        Action.remove_members,
        Action.manage_owners,
        Action.transfer_ownership,
    }
)


def allows(role: Role | str | None, action: Action | str) -> bool:
    """Whether ``role`` may do ``action``; no role (no membership) may do nothing."""
    if role is None:
        return False
    return Role(role) in MATRIX[Action(action)]


def can(action: Action | str) -> bool:
    """Whether the current request's membership may do ``action`` (for views and templates)."""
    membership = g.get("membership")
    if membership is None or (Action(action) in MEMBERS_ONLY and g.get("consulting") is not None):
        return False
    return allows(membership.role, action)


# Whom a cycle's sponsor must be, and who, being its sponsor, decides it beside the owners.
SPONSOR_ROLES: frozenset[Role] = _ADMINS


def may_decide(role: Role | str | None, user_id: int | None, sponsor_id: int | None) -> bool:
    """Whether a member with ``role`` may record the decision of a cycle backed by ``sponsor_id``: an owner
    always, the sponsor while an owner or admin; a member, a viewer or another admin never."""
    if allows(role, Action.decide_cycle):
        return True
    return role is not None and sponsor_id is not None and user_id == sponsor_id and Role(role) in SPONSOR_ROLES


def can_decide(sponsor_id: int | None) -> bool:
    """``may_decide`` for the current request's membership; a consultant's seat never decides for a client."""
    membership = g.get("membership")
    if membership is None or g.get("consulting") is not None:
        return False
    return may_decide(membership.role, getattr(membership, "user_id", None), sponsor_id)


def require_permission(
    action: Action, *, write: Action | None = None, sponsor_of: Callable[..., int | None] | None = None
) -> Callable[[F], F]:
    """Refuse with 403 unless the membership's role allows ``action`` (``write`` for POST and
    other non-reading methods, when it differs). 403, not 404: inside one's own organization
    existence is no secret; other organizations already answered 404 in ``gateway.web._resolve_org``.

    ``sponsor_of`` (called with the view's arguments; it answers 404 for a missing cycle) names the sponsor
    of the cycle a ``decide_cycle`` route is about, who may do it beside the owners (``may_decide``).

    The actions are kept on the view (``view.permissions``) so the tests can walk them.
    """
    by_method = {"GET": action, "HEAD": action, "POST": write or action}

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            needed = by_method.get(request.method, write or action)
            if needed in MEMBERS_ONLY and g.get("consulting") is not None:
                abort(404)
            if needed == Action.decide_cycle and sponsor_of is not None:
                allowed = can_decide(sponsor_of(**kwargs))
            else:
                allowed = can(needed)
            if not allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.permissions = by_method  # type: ignore[attr-defined]
        return cast(F, wrapped)

    return decorator


def markdown_table() -> str:
    """The matrix as the Markdown table in docs/permissions.md (English, the docs' language)."""
    from flask_babel import force_locale

    with force_locale("en"):
        lines = [
            "| action | what | " + " | ".join(role.value for role in ROLE_ORDER) + " |",
            "|---|---|" + "---|" * len(ROLE_ORDER),
        ]
        for action in Action:
            cells = " | ".join("✓" if role in MATRIX[action] else "–" for role in ROLE_ORDER)
            lines.append(f"| `{action.value}` | {DESCRIPTIONS[action]} | {cells} |")
    return "\n".join(lines)
