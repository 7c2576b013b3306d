"""The suite's root: fixtures come from tests/fixtures/, one plugin per domain.

One migrated database per test run, one rolled-back transaction per test (tests/fixtures/database.py).
"""

from __future__ import annotations

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
]


def pytest_configure(config: pytest.Config) -> None:
    problem = catalogs_problem()
    if problem:
        raise pytest.UsageError(problem)
