"""Sign-up, login, logout, password reset and password change."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from limits import parse as parse_limit
from werkzeug.wrappers import Response

from engpass import mail
from engpass.accounts import security_log, service, signup_notice, twofactor
from engpass.accounts.forms import (
    AccountSettingsForm,
    ChangePasswordForm,
    ConfirmIdentityForm,
    ConfirmIdentityWithCodeForm,
    EmailChangeForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
    SignupForm,
    TwoFactorCodeForm,
)
from engpass.accounts.models import User
from engpass.accounts.reauth import mark_authenticated, require_recent_auth
from engpass.accounts.session import PENDING_KEY, await_second_factor, end_session, renew, start_session
from engpass.db import db
from engpass.extensions import limiter
from engpass.i18n import LANGUAGES, SESSION_KEY
from engpass.organizations.context import LAST_ORG_KEY, SSO_ORG_KEY, landing_membership, landing_url
from engpass.organizations.service import unique_slug
from engpass.safe_redirect import local_target
from engpass.settings import Settings

bp = Blueprint("accounts", __name__)


def _settings() -> Settings:
    return current_app.extensions["engpass.settings"]


def _account_key() -> str:
    """Rate-limit key for the account a form names *and* the client naming it.

    Per account alone, a stranger's five wrong passwords locked the account for everyone, its owner too;
    per account and client, the stranger slows only himself. Guessing from many addresses is bounded by
    the per-address limit on the same routes (docs/security.md, rate limits)."""
    account = (request.form.get("email") or "").strip().lower()[:254]
    return f"account:{account}:{get_remote_address()}"


def _login_limit() -> str:
    return _settings().login_rate_limit


def _account_limit() -> str:
    return _settings().account_rate_limit


def _log(user_id: int, kind: str) -> None:
    """A security event for the user's own log, in the request's transaction (the caller commits)."""
    security_log.record(db.session, user_id, kind, request.remote_addr)


def _after_login_target(user_id: int) -> str:
    target = local_target(request.args.get("next"))
    if target is not None:
        return target
    membership = landing_membership(db.session, user_id, session.get(LAST_ORG_KEY))
    if membership is None:
        return url_for("organizations_public.no_organization")
    return landing_url(membership)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def signup() -> Any:
    if current_user.is_authenticated:
        return redirect(_after_login_target(current_user.id))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user, org = service.sign_up(
                db.session,
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                company=form.company.data,
                locale=session.get(SESSION_KEY) or request.accept_languages.best_match(list(LANGUAGES), "de"),
            )
        except service.EmailTaken:
            db.session.rollback()
            return _answer_taken_address(form)
        db.session.commit()
        start_session(user)
        session[LAST_ORG_KEY] = org.slug
        flash(_("Welcome to Engpass! Your company %(name)s is ready.", name=org.name), "success")
        return redirect(url_for("organizations.home", org_slug=org.slug))
    return render_template("accounts/signup.html", form=form), 200 if not form.errors else 422


def _answer_taken_address(form: SignupForm) -> Response:
    """The answer of a new sign-up, without an account or a session behind it: which addresses have an
    account is nobody's business. The address's owner hears of the attempt by e-mail (signup_notice)."""
    owner = service.find_user(db.session, form.email.data)
    if owner is not None:
        signup_notice.note_attempt(db.session, owner)
        db.session.commit()
    renew()
    slug = unique_slug(db.session, form.company.data)
    flash(_("Welcome to Engpass! Your company %(name)s is ready.", name=form.company.data.strip()), "success")
    return redirect(url_for("organizations.home", org_slug=slug))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_account_key)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(_after_login_target(current_user.id))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = service.authenticate(db.session, form.email.data, form.password.data)
        if user is not None and user.has_two_factor:
            # Not signed in yet: the session only says whose code it waits for, and until when.
            await_second_factor(user, remember=bool(form.remember.data))
            target = local_target(request.args.get("next"))
            query = {"next": target} if target is not None else {}
            return redirect(url_for("accounts.login_code", **query))
        if user is not None:
            _log(user.id, "login")
            db.session.commit()
            start_session(user, remember=bool(form.remember.data))
            return redirect(_after_login_target(user.id))
        known = service.find_user(db.session, form.email.data)
        if known is not None:
            # Only the owner of the account sees this entry; the page says the same as for unknown addresses.
            _log(known.id, "login_failed")
            db.session.commit()
        # One message for unknown e-mail and wrong password: no hint which accounts exist.
        form.form_errors.append(_("E-mail or password is not correct."))
        status = 401
    elif form.errors:
        status = 422
    return render_template("accounts/login.html", form=form), status


def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("user"), int):
        return None
    if not isinstance(pending.get("until"), int) or pending["until"] < time.time():
        return None
    user = db.session.get(User, pending["user"])
    if user is None or user.session_token != pending.get("token") or not user.has_two_factor:
        return None
    return user


def _pending_key() -> str:
    """Rate-limit key for the account whose code is asked for, whichever IPs the guesses come from."""
    pending = session.get(PENDING_KEY)
    return f"two-factor:{pending.get('user') if isinstance(pending, dict) else '-'}"


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_pending_key)
def login_code() -> Any:
    """The second step of the login for users with two-factor authentication."""
    if current_user.is_authenticated:
        return redirect(_after_login_target(current_user.id))
    user = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_("Please log in again: the time for the code has run out."), "info")
        return redirect(url_for("accounts.login"))
    form = TwoFactorCodeForm()
    status = 200
    if form.validate_on_submit():
        used = twofactor.verify(db.session, user, form.code.data, _settings().secret_key)
        if used is not None:
            remember = bool(session[PENDING_KEY].get("remember"))
            sso_org = session[PENDING_KEY].get("sso_org")
            _log(user.id, "login" if used == "totp" else "recovery_code_used")
            db.session.commit()
            start_session(user, remember=remember)
            if sso_org is not None:
                session[SSO_ORG_KEY] = sso_org
            if used == "recovery":
                left = twofactor.remaining_recovery_codes(db.session, user)
                flash(_("You used a recovery code. %(count)d are left.", count=left), "info")
            return redirect(_after_login_target(user.id))
        form.code.errors.append(_("This code is not correct, or it was already used."))
        _log(user.id, "two_factor_failed")
        db.session.commit()
        status = 401
    elif form.errors:
        status = 422
    return render_template("accounts/login_code.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        # A copied cookie must not outlive the logout: the new token ends every session of this user.
        service.sign_out_everywhere(db.session, current_user._get_current_object())
        _log(current_user.id, "logout")
        db.session.commit()
    end_session()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("accounts.login"))


# Reset mails per account from all addresses together. Only the mails are capped, never the answer, so the
# cap locks nobody out: the links already sent work until they expire. It stops a stranger with many
# addresses from flooding someone's inbox now that the request limit counts per address.
RESET_MAILS = parse_limit("5 per hour")


def _reset_mail_allowed(address: str) -> bool:
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    return limiter.limiter.hit(RESET_MAILS, "reset-mail", address)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_account_key)
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = service.find_user(db.session, form.email.data)
        if user is not None and _reset_mail_allowed(user.email):
            token = service.make_reset_token(_settings().secret_key, user)
            link = _settings().base_url.rstrip("/") + url_for("accounts.reset_password", token=token)
            mail.send(
                mail.render_mail(
                    user.email,
                    _("Reset your Engpass password"),
                    "password_reset",
                    user=user,
                    link=link,
                    minutes=_settings().password_reset_max_age // 60,
                )
            )
        # The same answer whether or not the account exists.
        flash(
            _(
                "If an account exists for this address, we have sent a link to reset the password. "
                "It is valid for one hour."
            ),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form), 422 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_password(token: str) -> Any:
    settings = _settings()
    user = service.user_for_reset_token(db.session, settings.secret_key, token, settings.password_reset_max_age)
    if user is None:
        flash(_("This link is invalid, expired or was already used. Please request a new one."), "error")
        return redirect(url_for("accounts.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)
        _log(user.id, "password_reset")
        db.session.commit()
        start_session(user)
        flash(_("Your password has been changed."), "success")
        return redirect(_after_login_target(user.id))
    return render_template("accounts/reset_password.html", form=form, token=token), 422 if form.errors else 200


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@require_recent_auth()
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("The current password is not correct."))
        else:
            current_user.set_password(form.password.data)
            _log(current_user.id, "password_changed")
            db.session.commit()
            # The session token changed: re-issue this session's cookie, the others are now signed out.
            start_session(current_user._get_current_object())
            flash(_("Your password has been changed. Other sessions have been signed out."), "success")
            return redirect(url_for("accounts.change_password"))
    return render_template("accounts/change_password.html", form=form), 422 if form.errors else 200


def _render_settings(form: AccountSettingsForm, email_form: EmailChangeForm, status: int = 200) -> tuple[str, int]:
    events = security_log.recent(db.session, current_user.id)
    page = render_template(
        "accounts/settings.html", form=form, email_form=email_form, events=events, event_labels=security_log.LABELS
    )
    return page, status


@bp.route("/account/settings", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    """Name, language and time zone; the e-mail change and the password have forms of their own."""
    user = current_user._get_current_object()
    form = AccountSettingsForm(obj=user)
    if form.validate_on_submit():
        form.populate_obj(user)
        # The language picked in this session must not override the saved one on the next page.
        session[SESSION_KEY] = user.locale
        db.session.commit()
        refresh()
        flash(_("Your settings have been saved."), "success")
        return redirect(url_for("accounts.settings"))
    return _render_settings(form, EmailChangeForm(formdata=None), 422 if form.errors else 200)


@bp.route("/account/email", methods=["POST"])
@login_required
@require_recent_auth()
@limiter.limit(_login_limit)
def request_email_change() -> Any:
    """Send a confirmation link to the new address; nothing changes until it is opened."""
    user = current_user._get_current_object()
    email_form = EmailChangeForm()
    if email_form.validate_on_submit():
        new_email = email_form.email.data.strip().lower()
        if not user.check_password(email_form.current_password.data):
            email_form.current_password.errors.append(_("The current password is not correct."))
        elif new_email == user.email:
            email_form.email.errors.append(_("This is already your e-mail address."))
        elif service.find_user(db.session, new_email) is not None:
            email_form.email.errors.append(_("Another account already uses this e-mail address."))
        else:
            token = service.make_email_change_token(_settings().secret_key, user, new_email)
            link = _settings().base_url.rstrip("/") + url_for("accounts.confirm_email_change", token=token)
            mail.send(
                mail.render_mail(new_email, _("Confirm your new e-mail address"), "email_change", user=user, link=link)
            )
            flash(
                _(
                    "We have sent a link to %(email)s. Your address changes when you open it (within 24 hours).",
                    email=new_email,
                ),
                "info",
            )
            return redirect(url_for("accounts.settings"))
    return _render_settings(AccountSettingsForm(obj=user, formdata=None), email_form, 422)


@bp.route("/account/email/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def confirm_email_change(token: str) -> Any:
    """The link in the mail to the new address. GET only asks (mail scanners open links); POST changes.
    No login needed: the signed link is the proof, and it names the account."""
    try:
        user, new_email = service.email_change_from_token(db.session, _settings().secret_key, token)
    except service.EmailChangeInvalid as exc:
        status = {"expired": 410, "used": 410, "taken": 409}.get(exc.reason, 404)
        return render_template("accounts/email_change_invalid.html", reason=exc.reason), status
    if request.method == "GET":
        return render_template("accounts/email_change_confirm.html", new_email=new_email, token=token)
    # Asked before the change: the change rotates the session token this request's login is checked against.
    same_person = current_user.is_authenticated and current_user.id == user.id
    old_email = service.change_email(db.session, user, new_email)
    _log(user.id, "email_changed")
    db.session.commit()
    # The old address hears of it: if this was not its owner's doing, they learn at once.
    mail.send(mail.render_mail(old_email, _("Your Engpass e-mail address was changed"), "email_changed", user=user))
    if same_person:
        start_session(user)
    flash(_("Your e-mail address is now %(email)s.", email=new_email), "success")
    return redirect(url_for("accounts.settings") if same_person else url_for("accounts.login"))


def _user_key() -> str:
    """Rate-limit key for the signed-in account, so a stolen session cannot try passwords from many IPs."""
    return f"user:{current_user.id}" if current_user.is_authenticated else "user:-"


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_user_key)
def confirm() -> Any:
    """Enter the password again before a sensitive action (``require_recent_auth``), then go back."""
    user = current_user._get_current_object()
    form = ConfirmIdentityWithCodeForm() if user.has_two_factor else ConfirmIdentityForm()
    status = 200
    if form.validate_on_submit():
        if not user.check_password(form.password.data):
            form.password.errors.append(_("The password is not correct."))
            status = 401
        elif user.has_two_factor and twofactor.verify(db.session, user, form.code.data, _settings().secret_key) is None:
            form.code.errors.append(_("This code is not correct, or it was already used."))
            status = 401
        else:
            _log(user.id, "reauthenticated")
            db.session.commit()
            mark_authenticated()
            return redirect(local_target(request.args.get("next")) or url_for("accounts.settings"))
    elif form.errors:
        status = 422
    if status == 401:
        _log(user.id, "reauth_failed")
        db.session.commit()
    return render_template("accounts/confirm.html", form=form), status


@bp.route("/language", methods=["POST"])
def set_language() -> Response:
    code = request.form.get("locale", "")
    if code in LANGUAGES:
        session[SESSION_KEY] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(local_target(request.form.get("next")) or url_for("index"))
