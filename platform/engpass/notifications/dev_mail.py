"""``/dev/mail/``: the ``.eml`` files of the embedded default, for the developer on this machine.

Answers only when no SMTP server is configured (so never in production) and only to requests
from loopback that no proxy forwarded; everyone else gets the same 404 as for a page that does
not exist. The mails hold live links (password resets, settings), hence the care.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import cast

from flask import Blueprint, abort, current_app, render_template, request
from werkzeug.wrappers import Response

from engpass.settings import Settings

bp = Blueprint("dev_mail", __name__, url_prefix="/dev/mail")

# What mail.Mailer names its files; nothing else in the folder is served.
FILE_NAME = re.compile(r"\d{8}T\d{6,12}-[0-9a-f]{8}\.eml")
LIST_LIMIT = 200


@dataclass(frozen=True)
class OutboxMail:
    name: str
    subject: str
    to: str
    date: str


def _settings() -> Settings:
    return current_app.extensions["engpass.settings"]


def _is_local_request() -> bool:
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.before_request
def _only_for_the_local_developer() -> None:
    if _settings().smtp_url or not _is_local_request():
        abort(404)


def _outbox() -> Path:
    return Path(_settings().outbox_dir)


def _parse(path: Path, headers_only: bool = False) -> EmailMessage:
    with path.open("rb") as handle:
        return cast(EmailMessage, BytesParser(policy=policy.default).parse(handle, headersonly=headers_only))


def _file(name: str) -> Path:
    path = _outbox() / name
    if not FILE_NAME.fullmatch(name) or not path.is_file():
        abort(404)
    return path


@bp.route("/")
def index() -> str:
    # The names start with the time written, so the newest sort first.
    paths = sorted((p for p in _outbox().glob("*.eml") if FILE_NAME.fullmatch(p.name)), reverse=True)
    mails = []
    for path in paths[:LIST_LIMIT]:
        headers = _parse(path, headers_only=True)
        mails.append(
            OutboxMail(path.name, str(headers["Subject"] or ""), str(headers["To"] or ""), str(headers["Date"] or ""))
        )
    return render_template("dev_mail/index.html", mails=mails, total=len(paths), folder=_outbox())


@bp.route("/<name>")
def show(name: str) -> str:
    message = _parse(_file(name))
    text = message.get_body(("plain",))
    return render_template(
        "dev_mail/show.html",
        name=name,
        message=message,
        text=text.get_content() if text is not None else "",
        has_html=message.get_body(("html",)) is not None,
    )


@bp.route("/<name>/html")
def html(name: str) -> Response:
    """The HTML part on its own, framed by the show page: sandboxed, no scripts, nothing loaded from elsewhere."""
    part = _parse(_file(name)).get_body(("html",))
    if part is None:
        abort(404)
    response = Response(part.get_content(), mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
