"""Signing in through an organization's identity provider: ``/sso`` (by e-mail), ``/sso/<slug>`` and the
provider's return to ``/sso/callback``. The session is the password login's (``accounts.session``); the next
page enters the organization through the gateway like any other."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from engpass import tenancy
from engpass.accounts.session import await_second_factor, start_session
from engpass.db import db
from engpass.extensions import limiter
from engpass.organizations.context import LAST_ORG_KEY, SSO_ORG_KEY
from engpass.organizations.models import Organization
from engpass.organizations.service import SLUG_PATTERN
from engpass.safe_redirect import local_target
from engpass.sso import signin
from engpass.sso.config import client_secret, config_of
from engpass.sso.forms import SsoEmailForm
from engpass.sso.provider import SignInFailed, authorization_url, finish

bp = Blueprint("sso", __name__)
log = logging.getLogger(__name__)

# By state: the organization and the target of each flow on its way through the provider (two tabs may start
# two). Authlib keeps its own state, nonce and PKCE verifier next to it; both are gone after the first return.
FLOW_KEY = "sso_flows"
# Flows abandoned at the provider stay until the next sign-in renews the session; a few are plenty.
FLOWS_KEPT = 5


def _login_limit() -> str:
    return current_app.extensions["engpass.settings"].login_rate_limit


def _secret_key() -> str:
    return current_app.extensions["engpass.settings"].secret_key


def _start(org: Organization, login_hint: str | None, from_form: bool = False) -> Any:
    """To the provider. After a form, by a page that moves on by itself: the content security policy's
    ``form-action 'self'`` also covers where a form's answer redirects, and a provider is another site."""
    with tenancy.tenant_context(db.session, org.id):
        config = config_of(db.session)
        if config is None:
            abort(404)
        try:
            url, state = authorization_url(
                config, client_secret(config, _secret_key()), url_for("sso.callback", _external=True), login_hint
            )
        except SignInFailed as failed:
            log.warning("sso: %s could not start a sign-in: %s", org.slug, failed.reason)
            flash(str(failed.message), "error")
            return redirect(url_for("accounts.login"))
    flows = session.get(FLOW_KEY) if isinstance(session.get(FLOW_KEY), dict) else {}
    kept = dict(list(flows.items())[-(FLOWS_KEPT - 1) :])
    session[FLOW_KEY] = kept | {state: {"org": org.id, "next": local_target(request.args.get("next"))}}
    if from_form:
        return render_template("sso/to_provider.html", url=url)
    return redirect(url)


@bp.route("/sso", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def by_email() -> Any:
    """The e-mail finds the organization whose verified domain it lies in, and its provider."""
    form = SsoEmailForm()
    if form.validate_on_submit():
        org = signin.organization_for_email(db.session, form.email.data)
        if org is not None:
            return _start(org, form.email.data, from_form=True)
        form.email.errors.append(_("No single sign-on is set up for this address. Please log in with your password."))
    return render_template("sso/by_email.html", form=form), 422 if form.errors else 200


@bp.route("/sso/<org_slug>")
@limiter.limit(_login_limit)
def org_login(org_slug: str) -> Response:
    """An organization's own sign-in link; 404 where there is no such organization or no provider."""
    if not SLUG_PATTERN.fullmatch(org_slug):
        abort(404)
    org = db.session.scalars(select(Organization).where(Organization.slug == org_slug)).one_or_none()
    if org is None:
        abort(404)
    return _start(org, None)


@bp.route("/sso/callback")
@limiter.limit(_login_limit)
def callback() -> Any:
    flows = session.get(FLOW_KEY) if isinstance(session.get(FLOW_KEY), dict) else {}
    flow = flows.pop(request.args.get("state", ""), None)
    session[FLOW_KEY] = flows
    org = db.session.get(Organization, flow["org"]) if isinstance(flow, dict) and flow.get("org") else None
    if org is None:
        log.warning("sso: a return without a sign-in under way (replayed or expired)")
        return _refused(_("This sign-in has expired or was already used. Please start again."))
    with tenancy.tenant_context(db.session, org.id):
        config = config_of(db.session)
        if config is None:
            return _refused(_("Single sign-on is no longer set up for %(org)s.", org=org.name))
        try:
            claims = finish(config, client_secret(config, _secret_key()))
            user = signin.sign_in(db.session, org, config, claims, request.remote_addr)
        except SignInFailed as failed:
            db.session.commit()
            log.warning("sso: sign-in into %s refused: %s", org.slug, failed.reason)
            return _refused(str(failed.message))
        db.session.commit()
    target = flow.get("next") or url_for("organizations.home", org_slug=org.slug)
    if user.has_two_factor:
        # The provider proved the first factor; this account's own second one is still asked for.
        await_second_factor(user, remember=False, sso_org=org.id)
        return redirect(url_for("accounts.login_code", next=target))
    start_session(user)
    session[SSO_ORG_KEY] = org.id
    session[LAST_ORG_KEY] = org.slug
    return redirect(target)


def _refused(message: str) -> tuple[str, int]:
    return render_template("sso/refused.html", message=message), 403
