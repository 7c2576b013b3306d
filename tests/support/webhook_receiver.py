"""A local HTTP receiver for webhook deliveries: records every request and answers from a script."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """Answers each request with the next scripted reply (the last one repeats)."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self.received: list[Received] = []
        self.replies: list[Reply] = [Reply()]
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/engpass"

    def script(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def take(self, request: Received) -> Reply:
        with self._lock:
            self.received.append(request)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def ids(self) -> list[str]:
        return [request.headers["webhook-id"] for request in self.received]


def _handler(receiver_box: list[Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = receiver_box[0].take(Received(self.path, headers, body))
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    box: list[Receiver] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    receiver = Receiver(server)
    box.append(receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
