"""Delivery through a real SMTP server on loopback: one connection per batch, and which failures are
temporary (tried again later) and which permanent."""

from __future__ import annotations

import re
import shutil
import socket
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask_babel import lazy_gettext as _l
from jinja2 import ChoiceLoader, DictLoader

from engpass.mail import Mail, Mailer, SmtpServer, build_message
from engpass.notifications.messages import compose
from engpass.notifications.preferences import Topic
from engpass.settings import REPO_ROOT
from tests.support.smtp import authenticator, make_certificate

SENDER = "Engpass <noreply@engpass.test>"


def _message(to: str, subject: str = "Hallo") -> object:
    return build_message(Mail(to=to, subject=subject, text="Text", html="<p>HTML</p>"), SENDER)


def _smtp(settings, url):
    return replace(settings, smtp_url=url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpServer("mail.example.com", 25, "none")),
        ("smtp+starttls://mail.example.com", SmtpServer("mail.example.com", 587, "starttls")),
        ("smtps://mail.example.com", SmtpServer("mail.example.com", 465, "ssl")),
        (
            "smtp+starttls://apikey:p%40ss%3Aword@smtp.example.com:2525",
            SmtpServer("smtp.example.com", 2525, "starttls", "apikey", "p@ss:word"),
        ),
    ],
)
def test_the_smtp_url_names_server_tls_and_login(url, expected):
    assert SmtpServer.from_url(url) == expected


def test_an_unknown_scheme_is_refused_at_once():
    with pytest.raises(ValueError, match="smtp://"):
        SmtpServer.from_url("http://mail.example.com")


def test_a_batch_goes_through_one_connection(settings, smtp_server):
    server = smtp_server()
    with Mailer(_smtp(settings, server.url)) as mailer:
        results = [mailer.send(_message(f"user{i}@example.com", f"Grüße Nr. {i}")) for i in range(5)]
    assert all(r.ok for r in results)
    assert [r.message["Subject"] for r in server.handler.received] == [f"Grüße Nr. {i}" for i in range(5)]
    assert len(server.handler.peers) == 1, "every message of the batch on the same connection"
    assert [r.message_id for r in results] == [r.message["Message-ID"] for r in server.handler.received]


@pytest.fixture
def probe_template(app):
    """A notification template of the tests' own, on the real e-mail layout."""
    app.jinja_env.loader = ChoiceLoader([DictLoader(PROBE), app.jinja_env.loader])


GREETING = '{{ _("Hello %(name)s,", name=user.name) }} {{ figure }}'
PROBE = {
    "email/probe.html": '{% extends "email/_layout.html" %}{% block content %}<p>' + GREETING + "</p>{% endblock %}",
    "email/probe.txt": '{% extends "email/_layout.txt" %}{% block content %}' + GREETING + "{% endblock %}",
}


def test_a_notification_arrives_with_both_parts_and_one_click_unsubscribe(
    app, settings, make_user, smtp_server, probe_template
):
    server = smtp_server()
    user = make_user(email="sabine@example.com", name="Sabine")
    settings.base_url = "https://engpass.example"
    with app.app_context():
        message = compose(user, _l("Weekly digest"), "probe", topic=Topic.digest, figure="<42>")
        with Mailer(_smtp(settings, server.url)) as mailer:
            assert mailer.send(message).ok
    (received,) = server.handler.received
    mail = received.message
    assert received.rcpt_tos == ["sabine@example.com"]
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    assert re.fullmatch(r"<https://engpass\.example/notifications/unsubscribe/[\w.-]+>", mail["List-Unsubscribe"])
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Message-ID"].endswith("@engpass.local>"), "the domain of ENGPASS_MAIL_FROM"
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    for needle in ("https://engpass.example/notifications/settings/", mail["List-Unsubscribe"][1:-1]):
        assert needle in text
        assert needle in html
    assert "Hallo Sabine, <42>" in text, "plain text is not HTML-escaped"
    assert "Hallo Sabine, &lt;42&gt;" in html
    assert mail["Subject"] == "Wochenbericht", "subject and body in the user's language (German)"
    assert "Vom Wochenbericht abmelden" in text
    for forbidden in ("<script", "<svg", "<style", "<link", "class="):
        assert forbidden not in html


def test_every_email_template_uses_inline_styles_only():
    for path in (REPO_ROOT / "templates" / "email").glob("*.html"):
        source = path.read_text().lower()
        for forbidden in ("<script", "<svg", "<style", "<link", "javascript:", " class="):
            assert forbidden not in source, f"{path.name}: {forbidden}"


def test_headers_in_any_language_arrive_intact_and_unfolded_links_stay_on_their_line():
    subject = "Müller & Söhne – Ihre Woche: " + "Engpass „Angebotserstellung“ gelöst, " * 4
    link = "<https://engpass.example/notifications/unsubscribe/" + "x" * 150 + ">"
    mail = Mail(to="Jürgen Groß <jg@example.com>", subject=subject, text="Grüße", headers={"List-Unsubscribe": link})
    raw = build_message(mail, "Engpaß <noreply@engpass.test>").data
    assert raw.isascii(), "non-ASCII only in encoded words and base64 parts"
    assert f"List-Unsubscribe: {link}".encode() in raw
    assert max(len(word) for word in re.findall(rb"=\?utf-8\?b\?[^?]*\?=", raw)) <= 75, "RFC 2047"
    received = message_from_bytes(raw, policy=policy.default)
    assert (received["Subject"], received["To"], received["From"]) == (
        subject,
        "Jürgen Groß <jg@example.com>",
        "Engpaß <noreply@engpass.test>",
    )
    assert received.get_content() == "Grüße"


def test_the_wire_form_is_crlf_ascii_with_short_lines_and_reads_back_as_written():
    text, html = "Grüße,\nJürgen\n" * 40, "<p>Grüße – Jürgen</p>" * 40
    outgoing = build_message(Mail(to="jg@example.com", subject="Grüße", text=text, html=html), SENDER)
    raw = outgoing.data
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b""), "every line ends in CRLF, no bare LF or CR"
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert (outgoing.sender, outgoing.recipient) == ("noreply@engpass.test", "jg@example.com")
    parsed = outgoing.parsed()
    assert parsed["Message-ID"] == outgoing.message_id
    assert parsed["MIME-Version"] == "1.0"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content() == text
    assert parsed.get_body(("html",)).get_content() == html


def test_text_only_is_one_part():
    parsed = build_message(Mail(to="jg@example.com", subject="Hallo", text="Grüße"), SENDER).parsed()
    assert not parsed.is_multipart()
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content() == "Grüße"


def test_a_header_longer_than_a_line_is_folded_at_spaces_and_one_that_cannot_be_is_refused():
    links = ", ".join(f"<https://engpass.example/{'x' * 90}/{i}>" for i in range(12))
    parsed = build_message(Mail(to="a@example.com", subject="Hallo", text="Text", headers={"X-Links": links}), SENDER)
    assert all(len(line) <= 998 for line in parsed.data.split(b"\r\n"))
    assert b"\r\n <https://" in parsed.data, "continued on the next line"
    assert parsed.parsed()["X-Links"] == links
    with pytest.raises(ValueError, match="longer than 998"):
        build_message(Mail(to="a@example.com", subject="Hallo", text="Text", headers={"X-Link": "x" * 1000}), SENDER)


# The subject is folded onto one line instead (tests/web/test_single_line.py): it carries names people typed.
@pytest.mark.parametrize("field", ["to", "header"])
def test_a_line_break_in_a_header_value_is_refused(field):
    values = {"to": "a@example.com", "subject": "Hallo", "headers": {}}
    if field == "header":
        values["headers"] = {"List-Unsubscribe": "<https://x>\r\nBcc: victim@example.com"}
    else:
        values[field] += "\nBcc: victim@example.com"
    with pytest.raises(ValueError, match="line break"):
        build_message(Mail(text="Text", **values), SENDER)


def test_451_is_temporary_and_keeps_the_connection_for_the_next(settings, smtp_server):
    server = smtp_server(mode="451")
    with Mailer(_smtp(settings, server.url)) as mailer:
        first = mailer.send(_message("a@example.com"))
        server.handler.mode = "accept"
        second = mailer.send(_message("b@example.com"))
    assert (first.ok, first.permanent, first.code) == (False, False, 451)
    assert first.error.startswith("451 4.3.0")
    assert second.ok
    assert len(server.handler.peers) == 1


def test_550_is_permanent(settings, smtp_server):
    server = smtp_server(mode="550")
    with Mailer(_smtp(settings, server.url)) as mailer:
        result = mailer.send(_message("a@example.com"))
    assert (result.ok, result.permanent, result.code) == (False, True, 550)
    assert server.handler.received == []


def test_a_refused_recipient_affects_only_its_own_message(settings, smtp_server):
    server = smtp_server()
    server.handler.refuse = {"gone@example.com"}
    with Mailer(_smtp(settings, server.url)) as mailer:
        results = [mailer.send(_message(to)) for to in ("a@example.com", "gone@example.com", "b@example.com")]
    assert [(r.ok, r.permanent) for r in results] == [(True, False), (False, True), (True, False)]
    assert results[1].error.startswith("550 5.1.1")
    assert [r.rcpt_tos for r in server.handler.received] == [["a@example.com"], ["b@example.com"]]
    assert len(server.handler.peers) == 1


def test_a_dropped_connection_is_temporary_and_the_next_message_reconnects(settings, smtp_server):
    server = smtp_server(mode="drop")
    with Mailer(_smtp(settings, server.url)) as mailer:
        dropped = mailer.send(_message("a@example.com"))
        server.handler.mode = "accept"
        after = mailer.send(_message("b@example.com"))
    assert (dropped.ok, dropped.permanent) == (False, False)
    assert "connection lost" in dropped.error
    assert after.ok
    assert len(server.handler.peers) == 2


def test_no_server_fails_the_whole_batch_as_temporary_without_waiting_per_message(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket is closed
    with Mailer(_smtp(settings, f"smtp://127.0.0.1:{port}"), timeout=5) as mailer:
        results = [mailer.send(_message(f"u{i}@example.com")) for i in range(3)]
    assert [(r.ok, r.permanent) for r in results] == [(False, False)] * 3
    assert all("cannot connect" in r.error for r in results)


def test_login_with_the_credentials_of_the_url(settings, smtp_server):
    server = smtp_server(
        credentials="engpass:s%40cret@", authenticator=authenticator("engpass", "s@cret"), auth_require_tls=False
    )
    with Mailer(_smtp(settings, server.url)) as mailer:
        assert mailer.send(_message("a@example.com")).ok
    wrong = replace(server, credentials="engpass:wrong@")
    with Mailer(_smtp(settings, wrong.url)) as mailer:
        result = mailer.send(_message("b@example.com"))
    # The server refused us, not the message: temporary, so it is sent once the login is fixed.
    assert (result.ok, result.permanent) == (False, False)
    assert len(server.handler.received) == 1


needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


@needs_openssl
def test_starttls(settings, smtp_server, tmp_path):
    certificate = make_certificate(tmp_path)
    server = smtp_server(scheme="smtp+starttls", tls_context=certificate.server_context(), require_starttls=True)
    with Mailer(_smtp(settings, server.url), ssl_context=certificate.client_context()) as mailer:
        assert mailer.send(_message("a@example.com")).ok
    assert len(server.handler.received) == 1
    # Without trusting the certificate the handshake fails: temporary, nothing goes out in clear text.
    with Mailer(_smtp(settings, server.url)) as mailer:
        result = mailer.send(_message("b@example.com"))
    assert (result.ok, result.permanent) == (False, False)
    assert len(server.handler.received) == 1


@needs_openssl
def test_smtps(settings, smtp_server, tmp_path):
    certificate = make_certificate(tmp_path)
    server = smtp_server(scheme="smtps", ssl_context=certificate.server_context())
    with Mailer(_smtp(settings, server.url), ssl_context=certificate.client_context()) as mailer:
        assert mailer.send(_message("a@example.com")).ok
    assert len(server.handler.received) == 1


def test_without_smtp_every_message_becomes_an_eml_file(settings):
    with Mailer(settings) as mailer:
        results = [mailer.send(_message(f"u{i}@example.com", f"Nr. {i}")) for i in range(3)]
    assert all(r.ok for r in results)
    files = sorted(Path(settings.outbox_dir).iterdir())
    assert [f.suffix for f in files] == [".eml"] * 3, "no partial files left behind"
    subjects = [message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in files]
    assert subjects == ["Nr. 0", "Nr. 1", "Nr. 2"], "names sort in the order written"


def test_an_unwritable_outbox_is_a_temporary_failure(settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with Mailer(replace(settings, outbox_dir=str(blocker / "outbox"))) as mailer:
        result = mailer.send(_message("a@example.com"))
    assert (result.ok, result.permanent) == (False, False)
