"""The links every notification e-mail carries, and the signed tokens inside them.

Two tokens, each signed with the app's secret key under a salt of its own, so neither can be
used as the other:

- **unsubscribe**: names the user and one topic (digest or reminders). It never expires —
  RFC 8058 asks that the link in an old mail keep working — and it can only switch that one
  topic off, for that one user.
- **preferences**: names the user and opens their notification settings without a login, for
  30 days (``PREFERENCES_MAX_AGE``). It can switch things on again, so it expires.

Both also carry a fingerprint of the address the mail went to: a token is void once that
user's address changes, and on SQLite, which may hand a deleted user's id to the next new
user, an old token cannot reach the newcomer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from engpass.accounts.models import User
from engpass.notifications.preferences import Topic
from engpass.settings import Settings

UNSUBSCRIBE_SALT = "engpass.notifications.unsubscribe"
PREFERENCES_SALT = "engpass.notifications.preferences"
PREFERENCES_MAX_AGE = timedelta(days=30)


class InvalidLink(ValueError):
    """Forged, altered, for a user that no longer exists, or for an address that changed."""


class ExpiredLink(InvalidLink):
    """Genuine, but older than its validity."""


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.email.encode()).hexdigest()[:16]


def unsubscribe_token(secret_key: str, user: User, topic: Topic) -> str:
    return URLSafeSerializer(secret_key, salt=UNSUBSCRIBE_SALT).dumps(
        {"u": user.id, "t": topic.value, "e": _fingerprint(user)}
    )


def preferences_token(secret_key: str, user: User) -> str:
    return URLSafeTimedSerializer(secret_key, salt=PREFERENCES_SALT).dumps({"u": user.id, "e": _fingerprint(user)})


def _user_of(session: Session, data: object) -> User:
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise InvalidLink("unexpected payload")
    user = session.get(User, data["u"])
    if user is None or data.get("e") != _fingerprint(user):
        raise InvalidLink("no such user, or the address changed")
    return user


def user_for_unsubscribe(session: Session, secret_key: str, token: str) -> tuple[User, Topic]:
    try:
        data = URLSafeSerializer(secret_key, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadData as exc:
        raise InvalidLink(str(exc)) from exc
    user = _user_of(session, data)
    try:
        return user, Topic(data.get("t"))
    except ValueError as exc:
        raise InvalidLink("unknown topic") from exc


def user_for_preferences(
    session: Session, secret_key: str, token: str, max_age: timedelta = PREFERENCES_MAX_AGE
) -> User:
    try:
        data = URLSafeTimedSerializer(secret_key, salt=PREFERENCES_SALT).loads(
            token, max_age=int(max_age.total_seconds())
        )
    except SignatureExpired as exc:
        raise ExpiredLink(str(exc)) from exc
    except BadData as exc:
        raise InvalidLink(str(exc)) from exc
    return _user_of(session, data)


def external_url(settings: Settings, endpoint: str, **values: object) -> str:
    """An absolute URL under ``base_url`` — what a link in an e-mail needs, with or without a request."""
    base = urlsplit(settings.base_url)
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


@dataclass(frozen=True)
class MailLinks:
    """The links for one e-mail to one user, and the headers that go with them."""

    preferences: str
    unsubscribe: str | None
    topic: Topic | None
    headers: dict[str, str]


def for_user(user: User, topic: Topic | None, settings: Settings | None = None) -> MailLinks:
    """Links for a mail to ``user``; with a ``topic`` also the one-click unsubscribe (RFC 2369, RFC 8058).

    No ``mailto:`` alternative: nothing here reads incoming mail, and the receivers that ask
    for one-click unsubscribing (Gmail, Yahoo) use the https link.
    """
    settings = settings or current_app.extensions["engpass.settings"]
    preferences = external_url(
        settings, "notifications.preferences_page", token=preferences_token(settings.secret_key, user)
    )
    if topic is None:
        return MailLinks(preferences=preferences, unsubscribe=None, topic=None, headers={})
    unsubscribe = external_url(
        settings, "notifications.unsubscribe", token=unsubscribe_token(settings.secret_key, user, topic)
    )
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return MailLinks(preferences=preferences, unsubscribe=unsubscribe, topic=topic, headers=headers)
