"""Starting and ending a signed-in session, wherever a person proves who they are (login, sign-up, password
reset, accepting an invitation with a new account) or leaves (logout, switching accounts, deleting one)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import session
from flask_login import login_user, logout_user

from engpass.accounts.models import User
from engpass.accounts.reauth import mark_authenticated
from engpass.i18n import SESSION_KEY
from engpass.organizations.context import LAST_ORG_KEY


def renew(keep: Iterable[str] = (SESSION_KEY, LAST_ORG_KEY)) -> None:
    """A new session with only ``keep`` carried over: a session id planted before a login is worthless, and
    nothing of one person's session reaches the next."""
    kept = {key: session[key] for key in keep if key in session}
    session.clear()
    session.update(kept)


def start_session(user: User, remember: bool = False) -> None:
    """Sign ``user`` in on a renewed session and count it as a recent proof of identity (``reauth``): whoever
    just typed their password is not asked for it again on the next page."""
    renew()
    login_user(user, remember=remember)
    mark_authenticated()


def end_session() -> None:
    """Log out and forget everything of the session but the language the visitor chose."""
    logout_user()
    renew(keep=(SESSION_KEY,))
