"""The two-factor pages of one's account: status, enrolment, recovery codes, switching it off."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from engpass.accounts import security_log, twofactor
from engpass.accounts.forms import TwoFactorCodeForm
from engpass.accounts.reauth import require_recent_auth
from engpass.db import db
from engpass.extensions import limiter

bp = Blueprint("twofactor", __name__, url_prefix="/account/two-factor")

# The secret being enrolled lives in the signed session until a code proves the app has it; the user
# sees it on the page anyway, and nothing is stored before the proof.
SETUP_KEY = "two_factor_setup"


def _secret_key() -> str:
    return current_app.extensions["engpass.settings"].secret_key


def _login_limit() -> str:
    return current_app.extensions["engpass.settings"].login_rate_limit


@bp.route("/")
@login_required
def status() -> str:
    user = current_user._get_current_object()
    remaining = twofactor.remaining_recovery_codes(db.session, user) if user.has_two_factor else 0
    return render_template("accounts/two_factor.html", remaining=remaining, form=TwoFactorCodeForm(formdata=None))


@bp.route("/setup", methods=["GET", "POST"])
@login_required
@require_recent_auth()
@limiter.limit(_login_limit, methods=["POST"])
def setup() -> Any:
    user = current_user._get_current_object()
    if user.has_two_factor:
        return redirect(url_for("twofactor.status"))
    secret = session.get(SETUP_KEY)
    if not isinstance(secret, str):
        secret = session[SETUP_KEY] = twofactor.new_secret()
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        step = twofactor.enrolment_step(secret, form.code.data)
        if step is not None:
            codes = twofactor.enable(db.session, user, secret, step, _secret_key())
            security_log.record(db.session, user.id, "two_factor_enabled", request.remote_addr)
            db.session.commit()
            session.pop(SETUP_KEY)
            flash(_("Two-factor authentication is on."), "success")
            return render_template("accounts/recovery_codes.html", codes=codes)
        form.code.errors.append(_("This code is not correct. Check the time on your phone and try the next code."))
    uri = twofactor.provisioning_uri(secret, user.email)
    page = render_template("accounts/two_factor_setup.html", form=form, secret=secret, qr=twofactor.qr_svg(uri))
    return page, 422 if form.errors else 200


@bp.route("/recovery-codes", methods=["POST"])
@login_required
@require_recent_auth()
def recovery_codes() -> Any:
    user = current_user._get_current_object()
    if not user.has_two_factor:
        return redirect(url_for("twofactor.status"))
    codes = twofactor.new_recovery_codes(db.session, user)
    security_log.record(db.session, user.id, "recovery_codes_renewed", request.remote_addr)
    db.session.commit()
    flash(_("New recovery codes: the old ones no longer work."), "success")
    return render_template("accounts/recovery_codes.html", codes=codes)


@bp.route("/disable", methods=["POST"])
@login_required
@require_recent_auth()
def disable() -> Response:
    user = current_user._get_current_object()
    if user.has_two_factor:
        twofactor.disable(db.session, user)
        security_log.record(db.session, user.id, "two_factor_disabled", request.remote_addr)
        db.session.commit()
        flash(_("Two-factor authentication is off."), "info")
    return redirect(url_for("twofactor.status"))
