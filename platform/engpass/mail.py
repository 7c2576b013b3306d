"""Sending e-mail: SMTP when ``ENGPASS_SMTP_URL`` is set, otherwise ``.eml`` files in the outbox folder."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

from engpass.db import utcnow
from engpass.settings import Settings


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None


def build_message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="engpass.local")
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message


def render_mail(to: str, subject: str, template: str, **context: object) -> Mail:
    """Render ``templates/email/<template>.txt`` and ``.html`` into one message."""
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    return Mail(to=to, subject=subject, text=text, html=html)


def deliver(settings: Settings, messages: list[EmailMessage]) -> None:
    """Hand messages over in one SMTP connection, or write them to the outbox folder."""
    if not settings.smtp_url:
        outbox = Path(settings.outbox_dir)
        outbox.mkdir(parents=True, exist_ok=True)
        for message in messages:
            name = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
            (outbox / name).write_bytes(bytes(message))
        return
    url = urlsplit(settings.smtp_url)
    port = url.port or (465 if url.scheme == "smtps" else 587 if url.scheme == "smtp+starttls" else 25)
    context = ssl.create_default_context()
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    kwargs = {"context": context} if url.scheme == "smtps" else {}
    with smtp_class(url.hostname or "localhost", port, timeout=30, **kwargs) as smtp:
        if url.scheme == "smtp+starttls":
            smtp.starttls(context=context)
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        for message in messages:
            smtp.send_message(message)


def send(mail: Mail) -> None:
    settings: Settings = current_app.extensions["engpass.settings"]
    deliver(settings, [build_message(mail, settings.mail_from)])
