"""Which real services a test run has, and what a test does when one it needs is missing."""

import os

import pytest

REQUIRE_SERVICES = os.environ.get("ENGPASS_REQUIRE_SERVICES") == "1"
PG_URL = os.environ.get("ENGPASS_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("ENGPASS_TEST_REDIS_URL", "")


def service_missing(what: str) -> None:
    """Skip, or fail when CI demands the real services."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (ENGPASS_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not configured")
