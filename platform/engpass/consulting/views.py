"""Consulting pages: a client's consultants (in its settings), a consultancy's clients and its portfolio."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engpass.accounts.reauth import require_recent_auth
from engpass.compression import gzipped, page_may_be_compressed, page_token
from engpass.consulting import service as consulting
from engpass.consulting.forms import (
    LEVEL_LABELS,
    LEVEL_SHORT,
    ApproveForm,
    ConfirmForm,
    GrantByCodeForm,
    RequestAccessForm,
)
from engpass.consulting.models import AccessLevel
from engpass.consulting.portfolio import View, entries, reflects_nothing
from engpass.cycles.forms import STAGE_LABELS
from engpass.db import db
from engpass.formatting import money, percent
from engpass.gateway.web import cached_page_org_id, org_blueprint
from engpass.i18n import today_in
from engpass.maturity.model import LEVEL_NAMES
from engpass.organizations.context import current_org
from engpass.organizations.models import OrgKind
from engpass.organizations.permissions import Action, require_permission
from engpass.page_cache import compressed_response, page_cache
from engpass.page_request import requested_page
from engpass.paging import Page, page_of

bp = org_blueprint("consulting", __name__)
# Clients a page of the portfolio: all of them are read and sorted (one query), a page is rendered.
PAGE_SIZE = 25
# The portfolio's columns in order, each a sort key (engpass.consulting.portfolio.SORTS); the trend sorts
# from the filter form only.
SORT_LABELS = {
    "name": _l("Client"),
    "level": _l("Maturity"),
    "trend": _l("Trend"),
    "stage": _l("Current cycle"),
    "overdue": _l("Overdue"),
    "warnings": _l("Warning signs"),
    "saved": _l("Saved this year"),
    "forecast": _l("Forecast accuracy"),
    "activity": _l("Last activity"),
}
F = TypeVar("F", bound=Callable[..., Any])


def only_for(kind: OrgKind) -> Callable[[F], F]:
    """A company has no portfolio and a consultancy grants no access: such a page does not exist there."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_org.kind != kind:
                abort(404)
            return view(*args, **kwargs)

        # The route walk reads it: such a page answers 404 in the other kind of organization.
        wrapped.only_for = kind  # type: ignore[attr-defined]
        return cast(F, wrapped)

    return decorator


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "level_short": lambda level: str(LEVEL_SHORT[AccessLevel(level)]),
        "level_labels": LEVEL_LABELS,
        "format_code": consulting.format_code,
    }


# -- the client's side: its settings ----------------------------------------------------------------


@bp.route("/settings/consultants", methods=["GET", "POST"])
@only_for(OrgKind.company)
@require_permission(Action.manage_consultants)
@require_recent_auth(methods=("POST",))
def client_settings() -> Any:
    form = GrantByCodeForm()
    if form.validate_on_submit():
        try:
            access = consulting.grant_by_code(
                db.session, current_org, form.code.data or "", AccessLevel(form.level.data), current_user.id
            )
        except consulting.ConsultingError as error:
            form.code.errors.append(str(error.message))
        else:
            name = access.consultancy.name
            db.session.commit()
            flash(_("%(consultancy)s now has access.", consultancy=name), "success")
            return redirect(url_for("consulting.client_settings"))
    return _render_client_settings(form)


def _render_client_settings(form: GrantByCodeForm) -> Any:
    page = render_template(
        "consulting/client_settings.html",
        form=form,
        accesses=consulting.accesses_of_client(db.session, current_org.id),
        requests=consulting.requests_to_client(db.session, current_org.id),
        approve_form=ApproveForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
    )
    return page, 422 if form.errors else 200


@bp.route("/settings/consultants/requests/<int:request_id>/approve", methods=["POST"])
@only_for(OrgKind.company)
@require_permission(Action.manage_consultants)
@require_recent_auth()
def approve(request_id: int) -> Any:
    form = ApproveForm()
    if form.validate_on_submit():
        try:
            access = consulting.approve_request(
                db.session, current_org, request_id, AccessLevel(form.level.data), current_user.id
            )
        except consulting.ConsultingError as error:
            flash(str(error.message), "error")
        else:
            name = access.consultancy.name
            db.session.commit()
            flash(_("%(consultancy)s now has access.", consultancy=name), "success")
    else:
        flash(_("Please choose the access."), "error")
    return redirect(url_for("consulting.client_settings"))


@bp.route("/settings/consultants/requests/<int:request_id>/decline", methods=["POST"])
@only_for(OrgKind.company)
@require_permission(Action.manage_consultants)
def decline(request_id: int) -> Any:
    if ConfirmForm().validate_on_submit():
        try:
            consulting.decline_request(db.session, current_org, request_id, current_user.id)
        except consulting.ConsultingError as error:
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(_("The request was declined."), "success")
    return redirect(url_for("consulting.client_settings"))


@bp.route("/settings/consultants/<int:access_id>/revoke", methods=["POST"])
@only_for(OrgKind.company)
@require_permission(Action.manage_consultants)
def revoke(access_id: int) -> Any:
    if ConfirmForm().validate_on_submit():
        try:
            access = consulting.revoke(db.session, current_org, access_id, current_user.id)
        except consulting.ConsultingError as error:
            flash(str(error.message), "error")
        else:
            name = access.consultancy.name
            db.session.commit()
            flash(_("%(consultancy)s no longer has access.", consultancy=name), "success")
    return redirect(url_for("consulting.client_settings"))


# -- the consultancy's side -------------------------------------------------------------------------


@bp.route("/clients", methods=["GET", "POST"])
@only_for(OrgKind.consultancy)
@require_permission(Action.manage_clients)
def clients() -> Any:
    form = RequestAccessForm()
    if form.validate_on_submit():
        try:
            consulting.request_access(
                db.session,
                current_org,
                form.client.data or "",
                AccessLevel(form.level.data),
                form.message.data or "",
                current_user.id,
            )
        except consulting.ConsultingError as error:
            form.client.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("Request sent. The client's admins see it in their settings."), "success")
            return redirect(url_for("consulting.clients"))
    code = consulting.invitation_code(db.session, current_org, current_user.id)
    db.session.commit()
    page = render_template(
        "consulting/clients.html",
        form=form,
        code=code,
        requests=consulting.requests_of_consultancy(db.session, current_org.id),
        confirm_form=ConfirmForm(formdata=None),
    )
    return page, 422 if form.errors else 200


@bp.route("/clients/code", methods=["POST"])
@only_for(OrgKind.consultancy)
@require_permission(Action.manage_clients)
def regenerate_code() -> Any:
    if ConfirmForm().validate_on_submit():
        consulting.regenerate_code(db.session, current_org, current_user.id)
        db.session.commit()
        flash(_("A new invitation code was made; the old one no longer works."), "success")
    return redirect(url_for("consulting.clients"))


# Per consultancy, the clients its portfolio read last in this process (all of them, whichever page showed:
# any client's figures can move a row from page to page), with the consultancy's page-cache token of then:
# a grant or revocation replaces that token, so a list is only used while it is current. The page and the
# sort are in the address, which is part of the key.
_client_lists: dict[int, tuple[str, tuple[int, ...]]] = {}
CLIENT_LISTS_MAX = 10_000


@bp.before_app_request
def _serve_cached_portfolio() -> Response | None:
    """Like the dashboard (dashboard.page_cache): a repeated visit whose data has not changed is served
    from the page cache without a query. The key holds the tokens of the user, the consultancy and every
    client shown, read in one round trip before anything is rendered.

    The page (a quarter of a megabyte for 200 clients) is stored gzip-compressed, and sent so to browsers
    that accept it when its address reflects nothing a third party could choose (``portfolio.reflects_nothing``
    admits the portfolio's own fixed values too) or the browser says our own pages asked for it
    (``compression.page_may_be_compressed``)."""
    if request.endpoint != "consulting.portfolio":
        return None
    org_id = cached_page_org_id()
    if org_id is None:
        return None
    known = _client_lists.get(org_id)
    related = known[1] if known is not None else ()
    found = page_cache.request_key_with_tokens(org_id, related)
    if found is None:
        return None
    key, tokens = found
    g.portfolio_cache = (org_id, tokens[1], related, key)
    if known is None or known[0] != tokens[1]:
        # Clients were granted or revoked since: render, and remember the new list.
        return None
    stored = page_cache.get(key)
    if stored is None:
        return None
    return compressed_response(stored, may_compress=reflects_nothing(request.query_string) or page_may_be_compressed())


@bp.route("/portfolio")
@only_for(OrgKind.consultancy)
@require_permission(Action.view_portfolio)
def portfolio() -> str:
    """The clients in one table, from their precomputed documents: one query for them all, filtered and
    sorted before paging, so the sort runs across pages; ``PAGE_SIZE`` of them rendered."""
    number = requested_page()
    today = today_in(current_org.timezone)
    everyone = entries(db.session, current_org.id, today)
    view = View.from_args(request.args)
    shown = page_of(view.apply(everyone), number, PAGE_SIZE)
    page = _render_portfolio(shown, everyone, view, today)
    cached = g.get("portfolio_cache")
    if cached is not None and cached[0] == current_org.id:
        org_id, org_token, related, key = cached
        shown = tuple(entry.org_id for entry in everyone)
        if len(_client_lists) >= CLIENT_LISTS_MAX:
            _client_lists.clear()
        _client_lists[org_id] = (org_token, shown)
        # Only under the key made from the very clients rendered, with tokens read before the query.
        if shown == related:
            # The CSRF token in the forms of the page stays out of the compression.
            page_cache.put(key, gzipped(page.encode(), hidden=page_token()))
    return page


def _render_portfolio(shown: Page[Any], everyone: list[Any], view: View, today: Any) -> str:
    return render_template(
        "consulting/portfolio.html",
        page=shown,
        total=len(everyone),
        view=view,
        today=today,
        stage_labels={stage.value: label for stage, label in STAGE_LABELS.items()},
        level_names=LEVEL_NAMES,
        sort_labels=SORT_LABELS,
        money=lambda value, currency: money(round(value), currency),
        percent=percent,
    )
