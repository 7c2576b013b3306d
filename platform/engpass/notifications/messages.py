"""Composing a notification e-mail for one user: their language, their time zone, their links."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace

from flask import current_app, has_request_context, request
from flask_babel.speaklater import LazyString

from engpass.accounts.models import User
from engpass.i18n import bound_template_gettext, recipient_language
from engpass.mail import OutgoingMail, build_message, render_mail
from engpass.notifications.links import for_user
from engpass.notifications.preferences import Topic, zone
from engpass.settings import Settings

# Marks the request context ``mail_context`` pushes, so that ``compose`` can tell it from a visitor's request.
_MAIL_CONTEXT = "engpass.mail_context"


def mail_context(settings: Settings) -> AbstractContextManager[object]:
    """The request context e-mails are rendered in: links to ``base_url``, nobody's session.

    ``compose`` enters one per message; a batch that enters it once around all its messages spares
    each message building a request.
    """
    return current_app.test_request_context(base_url=settings.base_url, environ_overrides={_MAIL_CONTEXT: True})


def _in_mail_context() -> bool:
    return has_request_context() and bool(request.environ.get(_MAIL_CONTEXT))


def compose(
    user: User,
    subject: str | LazyString,
    template: str,
    *,
    topic: Topic | None,
    settings: Settings | None = None,
    **context: object,
) -> OutgoingMail:
    """``templates/email/<template>.txt`` and ``.html`` for ``user``, ready for a ``Mailer``.

    Pass the subject as a lazy string (``lazy_gettext``): it is translated here, in the
    recipient's language. The templates get ``user``, ``links`` (``links.MailLinks``; the
    layout ``email/_layout.*`` puts them in the footer) and ``context``; dates format in the
    recipient's time zone. With a ``topic`` the message carries the one-click unsubscribe
    headers for it. Works in a worker as in a request: absolute links use ``base_url``.
    """
    settings = settings or current_app.extensions["engpass.settings"]
    links = for_user(user, topic, settings)
    with (
        nullcontext() if _in_mail_context() else mail_context(settings),
        recipient_language(user.locale, zone(user.timezone).key),
    ):
        mail = render_mail(
            user.email, str(subject), template, user=user, links=links, **bound_template_gettext(), **context
        )
    return build_message(replace(mail, headers=links.headers), settings.mail_from)
