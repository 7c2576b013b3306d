"""Language and formatting: German first, English available."""

from __future__ import annotations

from flask import request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

LANGUAGES = {"de": "Deutsch", "en": "English"}
DEFAULT_LOCALE = "de"
SESSION_KEY = "locale"
DEFAULT_TIMEZONE = "Europe/Berlin"


def select_locale() -> str:
    """The user's saved language, then the one picked in this session, then the browser's."""
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LOCALE)


def select_timezone() -> str:
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return DEFAULT_TIMEZONE


ROLE_LABELS = {"owner": _l("Owner"), "admin": _l("Admin"), "member": _l("Member"), "viewer": _l("Viewer")}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(str(role), role))
