"""Helpers for the API's tests: tokens made through the service, and requests that carry them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engpass import tenancy
from engpass.tokens import service as tokens

# Sabine's bottleneck and its status quo as API request bodies (docs/business-case.md).
NEW_CYCLE = {"title": "Angebote dauern 9 Tage", "category": "quoting"}
BASELINE = {
    "hours_per_week": 14,
    "kpi_name": "Dauer",
    "kpi_unit": "Tage",
    "kpi_direction": "lower",
    "kpi_baseline": "9",
    "kpi_target": 4,
}


def make_token(session: Any, org: Any, user: Any, name: str = "Test", expires_at: datetime | None = None) -> str:
    """A token of ``user`` in ``org``, committed; the token itself, as the page shows it once."""
    with tenancy.tenant_context(session, org.id):
        _row, token = tokens.create_token(session, user.id, name, expires_at, user.id)
        session.commit()
    return token


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def in_org(session: Any, org: Any, build: Any) -> Any:
    """Run ``build(session)`` inside ``org`` and commit (test data through the domain services)."""
    with tenancy.tenant_context(session, org.id):
        result = build(session)
        session.commit()
    return result
