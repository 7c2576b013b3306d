"""Language and formatting: German first, English available."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import g, request, session
from flask_babel import force_locale, get_translations, refresh
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

LANGUAGES = {"de": "Deutsch", "en": "English"}
DEFAULT_LOCALE = "de"
SESSION_KEY = "locale"
DEFAULT_TIMEZONE = "Europe/Berlin"
# Set while rendering for someone other than the visitor (an e-mail's recipient).
_RECIPIENT_TIMEZONE = "engpass_recipient_timezone"


def select_locale() -> str:
    """The user's saved language, then the one picked in this session, then the browser's."""
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LOCALE)


def select_timezone() -> str:
    if g.get(_RECIPIENT_TIMEZONE):
        return g.get(_RECIPIENT_TIMEZONE)
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return DEFAULT_TIMEZONE


@contextmanager
def recipient_language(locale: str, timezone: str) -> Iterator[None]:
    """Translate and format dates for another person than the visitor — the recipient of an e-mail."""
    previous = g.get(_RECIPIENT_TIMEZONE)
    setattr(g, _RECIPIENT_TIMEZONE, timezone or DEFAULT_TIMEZONE)
    try:
        with force_locale(locale if locale in LANGUAGES else DEFAULT_LOCALE):
            # Forget the time zone chosen so far; the forced locale survives a refresh.
            refresh()
            yield
    finally:
        setattr(g, _RECIPIENT_TIMEZONE, previous)
        refresh()


def zone_named(name: str, fallback: str = "UTC") -> ZoneInfo:
    """The zone called ``name``; one tzdata does not know (edited by hand, removed from tzdata) is ``fallback``."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(fallback)


def today_in(timezone: str, now: datetime | None = None) -> date:
    """Today where the organization works: deadlines fall by its calendar, not the server's."""
    return (now or datetime.now(UTC)).astimezone(zone_named(timezone)).date()


def bound_template_gettext() -> dict[str, Callable[..., str]]:
    """``gettext`` and ``ngettext`` for templates, bound to the current language's catalogue, to pass into a
    rendering: templates' ``_()`` and ``{% trans %}`` take them instead of the global ones, which ask
    Flask-Babel for the catalogue string by string — the larger part of rendering an e-mail, and a batch
    renders thousands. Same meaning as Jinja's new-style gettext: escaped in HTML, ``%(name)s`` filled in,
    ``num`` given to ``ngettext``'s text."""
    translations = get_translations()

    @pass_context
    # Positional-only, as Jinja's own: a template may name a variable ``text`` or ``num``.
    def gettext(context: Context, text: str, /, **variables: Any) -> str:
        translated = translations.ugettext(text)
        return (Markup(translated) if context.eval_ctx.autoescape else translated) % variables

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, /, **variables: Any) -> str:
        variables.setdefault("num", num)
        translated = translations.ungettext(singular, plural, num)
        return (Markup(translated) if context.eval_ctx.autoescape else translated) % variables

    return {"gettext": gettext, "ngettext": ngettext}


ROLE_LABELS = {"owner": _l("Owner"), "admin": _l("Admin"), "member": _l("Member"), "viewer": _l("Viewer")}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(str(role), role))
