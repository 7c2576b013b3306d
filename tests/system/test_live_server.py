"""The browser tests' live server closes every file it serves, also when the client resets the connection."""

from __future__ import annotations

import gc
import socket
import struct
import sys
import threading
import warnings
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from engpass.app import REPO_ROOT
from tests.support.browser import closing_when_drained


@pytest.fixture
def unclosed_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What the garbage collector had to close: files nobody closed raise ResourceWarning in their finaliser."""
    left: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: left.append(repr(unraisable.object)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        yield left


def _reset_after_the_answer_starts(app: Flask, times: int = 30) -> None:
    server = make_server("127.0.0.1", 0, closing_when_drained(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for _ in range(times):
            client = socket.create_connection(("127.0.0.1", server.server_port))
            # Linger 0: close() sends RST, as Chromium does when a navigation cancels a stylesheet.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.sendall(b"GET /static/css/app.css HTTP/1.1\r\nHost: test\r\n\r\n")
            client.recv(64)
            client.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    gc.collect()


@pytest.fixture
def static_app() -> Flask:
    return Flask(__name__, static_folder=str(REPO_ROOT / "platform" / "engpass" / "static"))


def test_reset_connections_leave_no_served_file_open(static_app, unclosed_files):
    # Werkzeug's server alone leaves a file open in most runs of thirty resets (not in every run: it depends on
    # whether the reset arrives before the server reads), so only this side is asserted.
    _reset_after_the_answer_starts(static_app)
    assert unclosed_files == []
