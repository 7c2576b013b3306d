"""Starting and ending a signed-in session, wherever a person proves who they are (login, sign-up, password
reset, accepting an invitation with a new account) or leaves (logout, switching accounts, deleting one)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from flask import session
from flask_login import login_user, logout_user

from engpass.accounts.models import User
from engpass.accounts.reauth import mark_authenticated
from engpass.i18n import SESSION_KEY
from engpass.organizations.context import LAST_ORG_KEY

PENDING_KEY = "two_factor_pending"
# Five minutes to type the code after the password; then the password is asked for again.
PENDING_MAX_AGE = 300


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


def await_second_factor(user: User, remember: bool, sso_org: int | None = None) -> None:
    """Not signed in yet: the session only says whose code it waits for, and until when. ``sso_org`` is the
    organization whose identity provider proved the first factor, marked on the session once the code is in."""
    renew()
    # The session token ties the pending step to the password as it was: a reset meanwhile voids it.
    session[PENDING_KEY] = {
        "user": user.id,
        "token": user.session_token,
        "until": int(time.time()) + PENDING_MAX_AGE,
        "remember": remember,
        "sso_org": sso_org,
    }
