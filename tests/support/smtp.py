"""A real SMTP server on loopback for the tests: aiosmtpd in a thread, with a handler that records
what arrives and can be told to answer 451, 550 or to drop the connection."""

from __future__ import annotations

import ssl
import subprocess
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    peer: Any
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Handler:
    """``mode`` decides the answer to DATA: ``accept``, ``451``, ``550`` or ``drop``; ``refuse`` lists
    recipients answered with 550 at RCPT TO."""

    mode: str = "accept"
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    peers: set[Any] = field(default_factory=set)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> Any:
        self.peers.add(session.peer)
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.mode == "451":
            return "451 4.3.0 Mailbox busy, try again later"
        if self.mode == "550":
            return "550 5.7.1 Message refused"
        if self.mode == "drop":
            server.transport.close()
            return "421 closing"
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(session.peer, envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


class LoopbackController(Controller):
    """Listens on a port the system picks, so parallel test runs never collide."""

    def __init__(self, handler: Handler, **kwargs: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=0, **kwargs)

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    handler: Handler
    controller: LoopbackController
    scheme: str = "smtp"
    credentials: str = ""

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.credentials}127.0.0.1:{self.controller.port}"


def authenticator(user: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
        ok = ok and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    return check


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Trusts exactly this certificate, and still checks the host name as in production."""
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(directory: Path) -> Certificate:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert),
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)
