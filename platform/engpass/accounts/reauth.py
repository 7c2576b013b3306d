"""Re-authentication ("sudo mode"): sensitive actions need a password (and 2FA code) entered recently.

The time of the last proof sits in the signed session cookie; login and /account/confirm set it. A stolen
session that is older than ``RECENT_AUTH_MAX_AGE`` cannot change the password, turn off 2FA, hand out
access or delete anything without knowing the password too."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import redirect, request, session, url_for

AUTH_AT_KEY = "auth_at"
# Ten minutes: long enough for one task (change the password, then the e-mail), short enough that an
# unattended, unlocked browser is no open door for long.
RECENT_AUTH_MAX_AGE = 600

F = TypeVar("F", bound=Callable[..., Any])


def mark_authenticated() -> None:
    """The user just proved who they are (login, or the confirm page)."""
    session[AUTH_AT_KEY] = int(time.time())


def is_recent(max_age: int = RECENT_AUTH_MAX_AGE) -> bool:
    auth_at = session.get(AUTH_AT_KEY)
    return isinstance(auth_at, int) and 0 <= time.time() - auth_at <= max_age


def require_recent_auth(max_age: int = RECENT_AUTH_MAX_AGE, methods: Iterable[str] | None = None) -> Callable[[F], F]:
    """Send a user whose last proof is older than ``max_age`` seconds to /account/confirm and back.

    ``methods`` limits the check to those requests (e.g. only the POST that creates a token, not the list
    on the same URL). Put it below ``login_required`` / ``require_permission``: strangers get a 403/404,
    not a password prompt. A refused POST changes nothing; after confirming, the user sends it again."""
    gated = frozenset(methods) if methods is not None else None

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if (gated is None or request.method in gated) and not is_recent(max_age):
                target = request.full_path.rstrip("?") if request.method == "GET" else request.path
                return redirect(url_for("accounts.confirm") + "?" + urlencode({"next": target}), 303)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
