"""The team page (``/o/<slug>/team``) and the public invitation page (``/invitations/<token>``).

The views only translate: forms in, ``team.service`` rules, one commit, a message out. A refusal
of the rules re-renders the team page with the reason and the status the rule carries (403, 409,
422); nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from engpass import tenancy
from engpass.accounts.models import User
from engpass.accounts.service import EmailTaken, create_user, find_user
from engpass.accounts.session import end_session, start_session
from engpass.db import db, utcnow
from engpass.extensions import limiter
from engpass.gateway.web import org_blueprint
from engpass.i18n import LANGUAGES, SESSION_KEY, role_label
from engpass.organizations import memberships
from engpass.organizations.context import LAST_ORG_KEY, current_membership, current_org
from engpass.organizations.models import Organization, Role
from engpass.organizations.permissions import DESCRIPTIONS, ROLE_ORDER, Action, allows, can, require_permission
from engpass.team import service
from engpass.team.forms import ConfirmForm, InvitationSignupForm, InviteForm, RoleForm, TransferForm
from engpass.team.models import Invitation

bp = org_blueprint("team", __name__, "/team")
public_bp = Blueprint("team_public", __name__)

F = TypeVar("F", bound=Callable[..., Any])
# Per signed-in user: inviting is how spam would leave through us.
INVITE_RATE_LIMIT = "30 per hour"


def _user_key() -> str:
    return f"user:{current_user.get_id() if current_user.is_authenticated else request.remote_addr}"


def _login_limit() -> str:
    return current_app.extensions["engpass.settings"].login_rate_limit


def _button(view: F) -> F:
    """A team action is a button's POST; its address typed or reloaded (GET) shows the page it belongs to."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if request.method == "GET":
            return redirect(url_for("team.index"))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def _membership_or_404(membership_id: int) -> Any:
    membership = memberships.membership_by_id(db.session, current_org.id, membership_id)
    if membership is None:
        abort(404)
    return membership


def _invitation_or_404(invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        abort(404)
    return invitation


def _transfer_form(team: list[service.TeamMember] | None = None) -> TransferForm:
    form = TransferForm(prefix="transfer")
    # No one preselected: handing the organization over is chosen, never defaulted.
    form.membership_id.choices = [(0, _("Choose a member"))] + [
        (t.membership.id, f"{t.user.name} ({t.user.email})")
        for t in (team if team is not None else service.members(db.session, current_org.id))
        if t.membership.role != Role.owner
    ]
    return form


def _render(
    *, invite_form: InviteForm | None = None, error: str | None = None, status: int = 200, **forms: Any
) -> tuple[str, int]:
    team = service.members(db.session, current_org.id)
    invitations = service.open_invitations(db.session) if can(Action.invite_members) else []
    owners = sum(1 for t in team if t.membership.role == Role.owner)
    page = render_template(
        "team/index.html",
        team=team,
        invitations=invitations,
        now=utcnow(),
        owners=owners,
        invite_form=invite_form or InviteForm(with_owner=can(Action.manage_owners)),
        role_form=RoleForm(with_owner=can(Action.manage_owners)),
        transfer_form=forms.get("transfer_form") or _transfer_form(team),
        confirm_form=ConfirmForm(),
        error=error,
        me=current_membership,
        matrix=[(DESCRIPTIONS[action], [allows(role, action) for role in ROLE_ORDER]) for action in Action],
        matrix_roles=ROLE_ORDER,
    )
    return page, status


def _refused(exc: service.TeamError, **forms: Any) -> tuple[str, int]:
    db.session.rollback()
    return _render(error=str(exc.message), status=exc.status, **forms)


def _done(message: str) -> Response:
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("team.index"))


@bp.route("/")
@require_permission(Action.view_team)
def index() -> tuple[str, int]:
    return _render()


@bp.route("/invite", methods=["GET", "POST"])
@require_permission(Action.invite_members)
@limiter.limit(INVITE_RATE_LIMIT, key_func=_user_key)
@_button
def invite() -> Any:
    form = InviteForm(with_owner=can(Action.manage_owners))
    if not form.validate_on_submit():
        return _render(invite_form=form, status=422)
    try:
        service.invite(db.session, current_org, current_membership, form.email.data, Role(form.role.data))
    except service.TeamError as exc:
        db.session.rollback()
        form.email.errors = [*form.email.errors, str(exc.message)]
        return _render(invite_form=form, status=exc.status)
    return _done(_("Invitation to %(email)s is on its way.", email=form.email.data.strip().lower()))


@bp.route("/invitations/<int:invitation_id>/resend", methods=["GET", "POST"])
@require_permission(Action.invite_members)
@limiter.limit(INVITE_RATE_LIMIT, key_func=_user_key)
@_button
def resend(invitation_id: int) -> Any:
    invitation = _invitation_or_404(invitation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        service.resend(db.session, invitation, current_membership)
    except service.TeamError as exc:
        return _refused(exc)
    return _done(
        _("A new invitation to %(email)s is on its way; the old link no longer works.", email=invitation.email)
    )


@bp.route("/invitations/<int:invitation_id>/cancel", methods=["GET", "POST"])
@require_permission(Action.invite_members)
@_button
def cancel(invitation_id: int) -> Any:
    invitation = _invitation_or_404(invitation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        service.cancel(db.session, invitation, current_membership)
    except service.TeamError as exc:
        return _refused(exc)
    return _done(_("The invitation to %(email)s was cancelled.", email=invitation.email))


@bp.route("/members/<int:membership_id>/role", methods=["GET", "POST"])
@require_permission(Action.change_roles)
@_button
def change_role(membership_id: int) -> Any:
    target = _membership_or_404(membership_id)
    form = RoleForm(with_owner=True)
    if not form.validate_on_submit():
        return _render(error=_("Please choose a role."), status=422)
    name = target.user.name
    try:
        changed = service.change_role(db.session, current_membership, target, Role(form.role.data))
    except service.TeamError as exc:
        return _refused(exc)
    if not changed:
        return redirect(url_for("team.index"))
    return _done(_("%(name)s is now %(role)s.", name=name, role=role_label(form.role.data)))


@bp.route("/members/<int:membership_id>/remove", methods=["GET", "POST"])
@require_permission(Action.remove_members)
@_button
def remove(membership_id: int) -> Any:
    target = _membership_or_404(membership_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = target.user.name
    try:
        service.remove_member(db.session, current_membership, target)
    except service.TeamError as exc:
        return _refused(exc)
    return _done(_("%(name)s was removed from the team.", name=name))


@bp.route("/leave", methods=["GET", "POST"])
@require_permission(Action.leave_organization)
@_button
def leave() -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = current_org.name
    try:
        service.leave(db.session, current_membership)
    except service.TeamError as exc:
        return _refused(exc)
    db.session.commit()
    session.pop(LAST_ORG_KEY, None)
    flash(_("You have left %(org)s.", org=name), "success")
    return redirect(url_for("index"))


@bp.route("/transfer", methods=["GET", "POST"])
@require_permission(Action.transfer_ownership)
@_button
def transfer() -> Any:
    form = _transfer_form()
    if not form.validate_on_submit():
        return _render(error=_("Please choose the member who becomes owner."), status=422, transfer_form=form)
    target = _membership_or_404(form.membership_id.data)
    name = target.user.name
    try:
        service.transfer_ownership(db.session, current_membership, target)
    except service.TeamError as exc:
        return _refused(exc, transfer_form=form)
    return _done(_("%(name)s is now the owner. You remain an admin.", name=name))


# --- the invitation link ---------------------------------------------------------------------------


def _invitation_page(template: str, status: int, **context: Any) -> tuple[str, int]:
    return render_template(f"team/{template}.html", **context), status


def _load_invitation(token: str) -> tuple[Invitation, Organization] | tuple[str, int]:
    """The open invitation and its organization, or the page that says why the link does not work."""
    org_id = service.org_id_of_token(token)
    if org_id is None:
        return _invitation_page("invitation_gone", 404, reason="unknown")
    # The link names its organization; everything read from here on is that tenant's, and only its.
    tenancy.activate(db.session, org_id)
    invitation = service.find_invitation(db.session, token)
    org = db.session.get(Organization, org_id) if invitation is not None else None
    if invitation is None or org is None:
        return _invitation_page("invitation_gone", 404, reason="unknown")
    if invitation.accepted_at is not None:
        return _invitation_page("invitation_gone", 410, reason="used", org=org)
    if invitation.cancelled_at is not None:
        return _invitation_page("invitation_gone", 410, reason="cancelled", org=org)
    if invitation.is_expired():
        return _invitation_page("invitation_gone", 410, reason="expired", org=org)
    return invitation, org


def _joined(invitation: Invitation, org: Organization, user: User, *, sign_in: bool = False) -> Response:
    try:
        membership = service.accept(db.session, invitation, user)
    except service.TeamError as exc:  # raced with a cancel, an expiry or another acceptance
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("index"))
    db.session.commit()
    if sign_in:
        start_session(user)
    session[LAST_ORG_KEY] = org.slug
    # The membership's role: someone who was already a member keeps theirs.
    flash(_("Welcome to %(org)s! You joined as %(role)s.", org=org.name, role=role_label(membership.role)), "success")
    return redirect(url_for("organizations.home", org_slug=org.slug))


@public_bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def accept(token: str) -> Any:
    loaded = _load_invitation(token)
    if not isinstance(loaded[0], Invitation):
        return loaded
    invitation, org = loaded  # type: ignore[misc]
    context = {"invitation": invitation, "org": org, "token": token, "role": role_label(invitation.role)}
    if current_user.is_authenticated:
        if current_user.email != invitation.email:
            return _invitation_page("invitation_mismatch", 403, **context)
        form = ConfirmForm()
        if form.validate_on_submit():
            return _joined(invitation, org, current_user._get_current_object())
        return _invitation_page("invitation_accept", 200, form=form, **context)
    if find_user(db.session, invitation.email) is not None:
        # The account exists: its password proves the person; the login comes back here.
        return _invitation_page("invitation_login", 200, **context)
    form = InvitationSignupForm()
    if form.validate_on_submit():
        locale = session.get(SESSION_KEY) or request.accept_languages.best_match(list(LANGUAGES), org.locale)
        try:
            user = create_user(db.session, invitation.email, form.name.data, form.password.data, locale=locale)
            # The team's clock until they choose their own: digests and reminders arrive at the team's hours.
            user.timezone = org.timezone
        except EmailTaken:  # signed up in another tab meanwhile
            db.session.rollback()
            return _invitation_page("invitation_login", 200, **context)
        return _joined(invitation, org, user, sign_in=True)
    return _invitation_page("invitation_signup", 422 if form.errors else 200, form=form, **context)


@public_bp.route("/invitations/<token>/logout", methods=["POST"])
def switch_account(token: str) -> Response:
    """Signed in with another address: sign out and come back to the invitation."""
    end_session()
    return redirect(url_for("team_public.accept", token=token))
