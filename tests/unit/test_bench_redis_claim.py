"""`make bench` claims a Redis database of its own; a claim left by a run that is gone must not push later
runs onto the embedded broker (which has no page cache, so the mixed load would measure another system)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from engpass.settings import REPO_ROOT


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> Iterator[tuple[ModuleType, str, Any]]:
    import redis

    spec = importlib.util.spec_from_file_location("bench_run", REPO_ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up by name.
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    base, _, number = redis_url.rpartition("/")
    # Only the test suite's own database, never the ones real runs use.
    monkeypatch.setattr(module, "REDIS_DATABASES", (int(number),))
    client = redis.Redis.from_url(redis_url)
    client.delete(module.REDIS_CLAIM_KEY)
    yield module, base, client
    client.delete(module.REDIS_CLAIM_KEY)


def test_a_free_database_is_claimed_and_released(bench):
    module, base, client = bench
    url = module.claim_redis_database(base)
    assert url.startswith(base)
    assert client.get(module.REDIS_CLAIM_KEY) == str(os.getpid()).encode()
    module.release_redis_database(url)
    assert client.get(module.REDIS_CLAIM_KEY) is None


def test_a_claim_held_by_a_running_run_is_left_alone(bench):
    module, base, client = bench
    running = str(os.getppid())
    client.set(module.REDIS_CLAIM_KEY, running)
    assert module.claim_redis_database(base) == ""
    assert client.get(module.REDIS_CLAIM_KEY) == running.encode()


def test_a_claim_whose_run_is_gone_is_taken_over(bench):
    module, base, client = bench
    gone = subprocess.Popen(["true"])
    gone.wait()
    client.set(module.REDIS_CLAIM_KEY, str(gone.pid))
    assert module.claim_redis_database(base).startswith(base)
    assert client.get(module.REDIS_CLAIM_KEY) == str(os.getpid()).encode()
