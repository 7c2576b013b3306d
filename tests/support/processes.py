"""Child processes as production runs them: the Procfile's commands, free loopback ports, waiting for them."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from honcho.environ import parse_procfile

from engpass.settings import REPO_ROOT

PROCFILE = REPO_ROOT / "deploy" / "Procfile"
# Every wait is bounded; a healthy run takes a few seconds for each.
WAIT_SECONDS = 90


def procfile_commands(path: Path = PROCFILE) -> dict[str, str]:
    """``name: command``, read by honcho as ``make run`` and Procfile platforms read it."""
    return dict(parse_procfile(path.read_text()).processes)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(what: str, check: Callable[[], Any], seconds: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"gave up after {seconds} s waiting for {what}")
