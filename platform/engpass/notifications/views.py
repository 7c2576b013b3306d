"""Notification settings (with a login, or from the signed link in every mail) and unsubscribing."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engpass.accounts.models import User
from engpass.db import db
from engpass.extensions import csrf
from engpass.notifications import links, preferences
from engpass.notifications.forms import PreferencesForm

bp = Blueprint("notifications", __name__)


def _secret_key() -> str:
    return current_app.extensions["engpass.settings"].secret_key


def _invalid_link(expired: bool) -> tuple[str, int]:
    # 410 says "this was real once"; 403 that it never was (or no longer is) a link for anyone.
    return render_template("notifications/invalid_link.html", expired=expired), 410 if expired else 403


def _edit(user: User, *, via_link: bool) -> Any:
    current = preferences.preferences_of(db.session, user)
    form = PreferencesForm(data=asdict(current))
    if form.validate_on_submit():
        preferences.save(db.session, user.id, **{name: form[name].data for name in preferences.EDITABLE})
        db.session.commit()
        flash(_("Your e-mail settings have been saved."), "success")
        return redirect(url_for(request.endpoint, **(request.view_args or {})))
    page = render_template(
        "notifications/preferences.html", form=form, user=user, timezone=current.timezone, via_link=via_link
    )
    return page, 422 if form.errors else 200


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def account() -> Any:
    return _edit(current_user._get_current_object(), via_link=False)


@bp.route("/notifications/settings/<token>", methods=["GET", "POST"])
def preferences_page(token: str) -> Any:
    """The settings without a login, from the link in an e-mail; the form still carries a CSRF token."""
    try:
        user = links.user_for_preferences(db.session, _secret_key(), token)
    except links.ExpiredLink:
        return _invalid_link(expired=True)
    except links.InvalidLink:
        return _invalid_link(expired=False)
    return _edit(user, via_link=True)


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> Any:
    """GET asks (link scanners must not unsubscribe anybody); POST unsubscribes.

    The POST is what a mail client sends for the ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
    header (RFC 8058): no session, no cookie, no CSRF token — the signed token is the authentication,
    and it can only switch off one topic for one user.
    """
    try:
        user, topic = links.user_for_unsubscribe(db.session, _secret_key(), token)
    except links.InvalidLink:
        return _invalid_link(expired=False)
    if request.method == "POST":
        preferences.unsubscribe(db.session, user.id, topic)
        db.session.commit()
        return render_template("notifications/unsubscribe.html", topic=topic, done=True)
    return render_template("notifications/unsubscribe.html", topic=topic, done=False)
