"""The suite's root: fixtures come from tests/fixtures/ (one plugin per domain), markers from the folders.

One migrated database per test run, one rolled-back transaction per test (tests/fixtures/database.py).
A test's folder says what kind it is and gives it the marker of that name, so that
``make test PYTEST_ARGS="-m 'not browser'"`` leaves out every test that needs Chromium, whichever file it is in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.catalogs import catalogs_problem

pytest_plugins = [
    "tests.fixtures.app",
    "tests.fixtures.database",
    "tests.fixtures.broker",
    "tests.fixtures.accounts",
    "tests.fixtures.organizations",
    "tests.fixtures.browser",
    "tests.fixtures.mail",
    "tests.fixtures.oidc",
]

TESTS = Path(__file__).resolve().parent
KINDS = ("unit", "web", "api", "workers", "browser", "system")


def pytest_configure(config: pytest.Config) -> None:
    problem = catalogs_problem()
    if problem:
        raise pytest.UsageError(problem)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test with its folder's kind (``system/faults/`` also ``faults``); a test that drives Chromium
    elsewhere (an e-mail's look on a phone) is marked ``browser`` as well, so the marker never misses one."""
    for item in items:
        folders = item.path.resolve().relative_to(TESTS).parts[:-1]
        if not folders or folders[0] not in KINDS:
            raise pytest.UsageError(f"{item.path}: a test belongs in one of the folders tests/{{{','.join(KINDS)}}}/")
        item.add_marker(folders[0])
        if folders[1:2] == ("faults",):
            item.add_marker("faults")
        if folders[0] != "browser" and "chromium_path" in item.fixturenames:
            item.add_marker("browser")
