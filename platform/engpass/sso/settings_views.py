"""The owners' single sign-on page ``/o/<slug>/settings/sso``: the provider, its test, the domains and the
requirement. Every change needs a recent password (like the two-factor requirement) and is audited."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engpass.accounts.reauth import require_recent_auth
from engpass.db import db
from engpass.gateway.web import org_blueprint
from engpass.organizations.context import current_org
from engpass.organizations.models import Role
from engpass.organizations.permissions import Action, require_permission
from engpass.sso import config as sso_config
from engpass.sso.forms import DomainForm, EmptyForm, ProviderForm, RequireSsoForm
from engpass.sso.provider import DiscoveryReport, check_discovery

bp = org_blueprint("sso_settings", __name__, "/settings/sso")

# The seam the tests replace: DNS is not theirs to reach.
txt_lookup = sso_config.dns_txt_records


def _secret_key() -> str:
    return current_app.extensions["engpass.settings"].secret_key


def _render(
    status: int = 200,
    provider_form: ProviderForm | None = None,
    domain_form: DomainForm | None = None,
    require_form: RequireSsoForm | None = None,
    report: DiscoveryReport | None = None,
) -> tuple[str, int]:
    config = sso_config.config_of(db.session)
    if provider_form is None:
        provider_form = ProviderForm(formdata=None, obj=config)
        if config is not None:
            provider_form.default_role.data = config.default_role.value
    require_form = require_form or RequireSsoForm(formdata=None, require=current_org.require_sso)
    domains = sso_config.domains(db.session, current_org.id)
    records = {d.id: sso_config.txt_record(_secret_key(), current_org.id, d.domain) for d in domains}
    page = render_template(
        "sso/settings.html",
        config=config,
        secret_readable=config is not None and sso_config.client_secret(config, _secret_key()) is not None,
        provider_form=provider_form,
        domain_form=domain_form or DomainForm(formdata=None),
        require_form=require_form,
        button_form=EmptyForm(),
        domains=domains,
        records=records,
        report=report,
        sign_in_url=url_for("sso.org_login", org_slug=current_org.slug, _external=True),
        callback_url=url_for("sso.callback", _external=True),
    )
    return page, status


def _back() -> Any:
    return redirect(url_for("sso_settings.index"))


@bp.route("/", methods=["GET", "POST"])
@require_permission(Action.configure_sso)
@require_recent_auth(methods=("POST",))
def index() -> Any:
    form = ProviderForm()
    if not form.is_submitted():
        return _render()
    if not form.validate():
        return _render(422, provider_form=form)
    settings = sso_config.ProviderSettings(
        issuer=form.issuer.data,
        client_id=form.client_id.data,
        client_secret=form.client_secret.data or None,
        default_role=Role(form.default_role.data),
    )
    try:
        sso_config.save_provider(db.session, current_org, settings, _secret_key(), current_user.id)
    except sso_config.SsoRefused as refused:
        db.session.rollback()
        form.client_secret.errors = [*form.client_secret.errors, str(refused.message)]
        return _render(422, provider_form=form)
    db.session.commit()
    flash(_("The identity provider is saved. Try it with the test button."), "success")
    return _back()


@bp.route("/test", methods=["POST"])
@require_permission(Action.configure_sso)
def test() -> Any:
    """Fetch the provider's discovery document and keys and show what it answered."""
    if not EmptyForm().validate_on_submit():
        return _render(422)
    config = sso_config.config_of(db.session)
    if config is None:
        abort(404)
    report = check_discovery(config)
    return _render(200 if report.ok else 422, report=report)


@bp.route("/remove", methods=["POST"])
@require_permission(Action.configure_sso)
@require_recent_auth()
def remove() -> Any:
    if not EmptyForm().validate_on_submit():
        return _render(422)
    sso_config.remove_provider(db.session, current_org, current_user.id)
    db.session.commit()
    flash(_("Single sign-on is switched off. Everyone signs in with their password again."), "info")
    return _back()


@bp.route("/domains", methods=["POST"])
@require_permission(Action.configure_sso)
@require_recent_auth()
def add_domain() -> Any:
    form = DomainForm()
    if not form.validate_on_submit():
        return _render(422, domain_form=form)
    try:
        sso_config.add_domain(db.session, current_org, form.domain.data, current_user.id)
    except sso_config.SsoRefused as refused:
        db.session.rollback()
        form.domain.errors = [*form.domain.errors, str(refused.message)]
        return _render(422, domain_form=form)
    db.session.commit()
    flash(_("Publish the TXT record shown below on the domain, then verify it."), "info")
    return _back()


@bp.route("/domains/<int:domain_id>/verify", methods=["POST"])
@require_permission(Action.configure_sso)
@require_recent_auth()
def verify_domain(domain_id: int) -> Any:
    row = sso_config.domain_by_id(db.session, current_org.id, domain_id)
    if row is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        return _render(422)
    try:
        sso_config.verify_domain(db.session, current_org, row, _secret_key(), current_user.id, txt_lookup)
    except sso_config.SsoRefused as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
        return _render(409)
    db.session.commit()
    flash(_("%(domain)s is verified.", domain=row.domain), "success")
    return _back()


@bp.route("/domains/<int:domain_id>/delete", methods=["POST"])
@require_permission(Action.configure_sso)
@require_recent_auth()
def delete_domain(domain_id: int) -> Any:
    row = sso_config.domain_by_id(db.session, current_org.id, domain_id)
    if row is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        return _render(422)
    sso_config.remove_domain(db.session, current_org, row, current_user.id)
    db.session.commit()
    return _back()


@bp.route("/require", methods=["POST"])
@require_permission(Action.configure_sso)
@require_recent_auth()
def require() -> Any:
    form = RequireSsoForm()
    if not form.validate_on_submit():
        return _render(422, require_form=form)
    try:
        sso_config.set_required(db.session, current_org, bool(form.require.data), current_user.id)
    except sso_config.SsoRefused as refused:
        db.session.rollback()
        form.require.errors = [*form.require.errors, str(refused.message)]
        return _render(409, require_form=form)
    db.session.commit()
    if current_org.require_sso:
        flash(_("From now on, members sign in through the identity provider."), "success")
    else:
        flash(_("Members may sign in with their password again."), "info")
    return _back()
