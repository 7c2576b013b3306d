"""E-mail: rendering from ``templates/email/`` and delivery through a ``Mailer``.

Delivery goes to the SMTP server of ``ENGPASS_SMTP_URL`` (``smtp://``, ``smtp+starttls://``,
``smtps://``, with ``user:password@`` when the server wants a login), otherwise — the embedded
default — into ``.eml`` files in the outbox folder, which ``/dev/mail/`` lists.

A ``Mailer`` sends a whole batch through one connection and never raises for a message: it
answers each one with a ``SendResult`` that says whether it was accepted and, if not, whether
trying again later can help:

- a 4xx reply, a dropped or refused connection, a timeout, a failed login or TLS handshake:
  **temporary** — nothing about the message is wrong, so it is tried again later;
- a 5xx reply to the message's own transaction (MAIL FROM, RCPT TO, DATA): **permanent** — the
  same message would be refused again. A refused recipient affects only that message; the
  connection goes on with the next one.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.charset import BASE64, Charset
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Self, cast
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

from engpass import single_line
from engpass.db import utcnow
from engpass.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


# UTF-8 with headers in base64 encoded words. The standard ``utf-8`` charset picks the shorter of
# quoted-printable and base64 by measuring the line character by character, which cost a digest's
# subject more CPU than the rest of writing the message.
_UTF8 = Charset("utf-8")
_UTF8.header_encoding = BASE64

# RFC 5322: a line is at most 998 characters long; longer header lines are folded at spaces.
MAX_LINE = 998
# RFC 2047: an encoded word is at most 75 characters long.
ENCODED_WORD_LENGTH = 75
CRLF = "\r\n"


@dataclass(frozen=True)
class OutgoingMail:
    """A message as it goes on the wire: the envelope and the bytes (CRLF line ends, ASCII only)."""

    sender: str
    recipient: str
    message_id: str
    data: bytes

    def parsed(self) -> EmailMessage:
        """The message as a mail client reads it (for tests and the development outbox page)."""
        return cast(EmailMessage, message_from_bytes(self.data, policy=policy.default))


def _one_line(value: str, what: str) -> None:
    """A line break in a header would start a header of its own (header injection): refused."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} may not contain a line break: {value!r}")


def _header_value(value: str) -> str:
    """ASCII as it is, anything else as RFC 2047 encoded words; line breaks refused."""
    _one_line(value, "a header value")
    if value.isascii():
        return value
    # Encoded words of the allowed length, side by side on one line: the space between them is not part of
    # the text.
    return Header(value, _UTF8, maxlinelen=ENCODED_WORD_LENGTH).encode(linesep=" ")


@lru_cache(maxsize=64)
def _address(value: str) -> tuple[str, str]:
    """The header value — ``Name <address>`` with the name encoded where it is not ASCII — and the bare
    address for the envelope. Cached: the sender is the same for every message of a batch."""
    _one_line(value, "an address")
    name, address = parseaddr(value)
    return formataddr((name, address), charset=_UTF8), address


def _header_line(name: str, value: str) -> str:
    """``Name: value``, folded at spaces only past the longest line SMTP allows (the long link of
    ``List-Unsubscribe`` stays on its line); a value that cannot be folded so is refused."""
    line = f"{name}: {value}"
    if len(line) <= MAX_LINE:
        return line + CRLF
    folded, current = [], ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > MAX_LINE:
            folded.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
        if len(current) > MAX_LINE:
            raise ValueError(f"the header {name} has a part longer than {MAX_LINE} characters")
    folded.append(current)
    return (CRLF + " ").join(folded) + CRLF


def _text_part(text: str, subtype: str) -> tuple[list[tuple[str, str]], str]:
    """A UTF-8 text part's own headers, and its body in base64 (76-character lines, RFC 2045)."""
    body = base64.encodebytes(text.encode()).decode("ascii").replace("\n", CRLF)
    return [("Content-Type", f'text/{subtype}; charset="utf-8"'), ("Content-Transfer-Encoding", "base64")], body


def _header_block(headers: list[tuple[str, str]]) -> str:
    return "".join(_header_line(name, value) for name, value in headers)


def build_message(mail: Mail, sender: str) -> OutgoingMail:
    """Plain text, and HTML as its alternative when there is one (``multipart/alternative``), written out
    for the wire.

    Written here rather than by the ``email`` package's generator: a message of this one shape — ASCII
    headers (RFC 2047 encoded words for the rest), UTF-8 parts in base64 — is a few lines of text, and the
    generator's header folding and line-by-line writing cost a digest about 1.5 ms of CPU, more than
    rendering it; the weekly digest goes out by the ten thousand. The ``email`` package still encodes the
    words and addresses, and parses the result back in the tests (``OutgoingMail.parsed``).
    """
    from_header, from_address = _address(sender)
    to_header, to_address = _address(mail.to)
    message_id = make_msgid(domain=from_address.rpartition("@")[2] or "engpass.local")
    headers = [
        ("From", from_header),
        ("To", to_header),
        # The subject carries names typed by people (organization, inviter); one stored before line breaks
        # were refused is folded onto one line rather than failing the mail.
        ("Subject", _header_value(single_line.fold(mail.subject))),
        ("Date", format_datetime(utcnow())),
        ("Message-ID", message_id),
        # RFC 3834: no vacation replies or other automatic answers to mails nobody typed.
        ("Auto-Submitted", "auto-generated"),
        *((name, _header_value(value)) for name, value in mail.headers.items()),
        ("MIME-Version", "1.0"),
    ]
    if mail.html:
        # "_" and "." never occur in base64, so the boundary cannot occur in the parts.
        boundary = f"=_{uuid.uuid4().hex}.engpass"
        headers.append(("Content-Type", f'multipart/alternative; boundary="{boundary}"'))
        parts = (_text_part(mail.text, "plain"), _text_part(mail.html, "html"))
        body = "".join(f"--{boundary}{CRLF}{_header_block(part)}{CRLF}{text}" for part, text in parts)
        body += f"--{boundary}--{CRLF}"
    else:
        part, body = _text_part(mail.text, "plain")
        headers.extend(part)
    data = f"{_header_block(headers)}{CRLF}{body}".encode("ascii")
    return OutgoingMail(sender=from_address, recipient=to_address, message_id=message_id, data=data)


def render_mail(to: str, subject: str, template: str, **context: object) -> Mail:
    """Render ``templates/email/<template>.txt`` and ``.html`` into one message (needs a request context)."""
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    return Mail(to=to, subject=subject, text=text, html=html)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    message_id: str = ""
    # Only for failures: True when trying again cannot help.
    permanent: bool = False
    error: str = ""
    code: int | None = None


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: str  # "none", "starttls" or "ssl"
    username: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise ValueError(f"ENGPASS_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, not {url!r}")
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            tls={"smtp": "none", "smtp+starttls": "starttls", "smtps": "ssl"}[parts.scheme],
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}".strip()


class Mailer:
    """One SMTP connection (or the outbox folder) for a batch of messages.

    ``with Mailer(settings) as mailer: result = mailer.send(message)``. The connection is opened
    at the first message and closed when the block ends. When it drops, the next message opens
    a new one; when that fails too, the server is taken as down and the rest of the batch fails
    at once as temporary, instead of waiting for a timeout per message.
    """

    def __init__(self, settings: Settings, *, ssl_context: ssl.SSLContext | None = None, timeout: float = 30) -> None:
        self.server = SmtpServer.from_url(settings.smtp_url) if settings.smtp_url else None
        self.outbox = Path(settings.outbox_dir)
        # Made when a TLS connection needs it: loading the system's certificates takes about 40 ms, which a
        # batch to a plain relay (or to the outbox folder) would pay for nothing.
        self._ssl_context = ssl_context
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None
        self._down = ""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    def send(self, message: OutgoingMail) -> SendResult:
        message_id = message.message_id
        if self.server is None:
            return self._write_file(message)
        if self._down:
            return SendResult(ok=False, message_id=message_id, error=self._down)
        try:
            smtp = self._connect()
        except (smtplib.SMTPException, OSError) as exc:
            # Whatever the server said while greeting or logging in is not about this message.
            self._down = f"cannot connect to {self.server.host}:{self.server.port}: {exc!r}"
            log.warning("SMTP: %s", self._down)
            return SendResult(ok=False, message_id=message_id, error=self._down)
        try:
            # An address beyond ASCII needs the server's SMTPUTF8 (RFC 6531); smtplib refuses without it.
            utf8 = () if (message.sender + message.recipient).isascii() else ("SMTPUTF8",)
            smtp.sendmail(message.sender, [message.recipient], message.data, mail_options=utf8)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return self._refused(message_id, code, text)
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            return self._refused(message_id, exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPNotSupportedError as exc:
            # The message needs an extension the server lacks (e.g. SMTPUTF8): it will never go through here.
            return SendResult(ok=False, message_id=message_id, permanent=True, error=str(exc))
        except (smtplib.SMTPException, OSError) as exc:
            # Dropped mid-message: the server did not say 250, so it did not take the message.
            self._drop()
            return SendResult(ok=False, message_id=message_id, error=f"connection lost: {exc!r}")
        return SendResult(ok=True, message_id=message_id)

    def _refused(self, message_id: str, code: int, text: bytes | str) -> SendResult:
        if code == 421:
            # "Service not available, closing": smtplib has closed the connection; the next message opens one.
            self._drop()
        return SendResult(
            ok=False, message_id=message_id, permanent=500 <= code < 600, error=_reply(code, text), code=code
        )

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        server = self.server
        assert server is not None
        if server.tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout, context=self._tls())
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            if server.tls == "starttls":
                smtp.starttls(context=self._tls())
            if server.username:
                smtp.login(server.username, server.password)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._smtp.close()
        self._smtp = None

    def _write_file(self, message: OutgoingMail) -> SendResult:
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
            # Written aside and renamed: whoever lists the folder never reads half a message.
            partial = self.outbox / f".{name}.partial"
            partial.write_bytes(message.data)
            partial.replace(self.outbox / name)
        except OSError as exc:
            return SendResult(ok=False, message_id=message.message_id, error=f"cannot write {name}: {exc!r}")
        return SendResult(ok=True, message_id=message.message_id)


class DeliveryFailed(OSError):
    """``send()`` could not hand the message over (an OSError, as smtplib's own exceptions are)."""


def send(mail: Mail) -> SendResult:
    """One message right now, for mails a request sends itself (the password reset); raises on failure."""
    settings: Settings = current_app.extensions["engpass.settings"]
    with Mailer(settings) as mailer:
        result = mailer.send(build_message(mail, settings.mail_from))
    if not result.ok:
        raise DeliveryFailed(result.error)
    return result
