"""A company's week for the digest tests: the scaled quoting cycle and its trend snapshots, and the default slot."""

from __future__ import annotations

from datetime import UTC, datetime

from engpass import tenancy
from engpass.trends import service as trends
from tests.support.cycles import scaled_quoting_cycle

# Monday 7 December 2026, 07:00 in Berlin (CET, UTC+1): the default digest slot.
BERLIN_MONDAY_7 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def scaled_cycle_with_trends(session, org, owner):
    """The scaled quoting cycle in ``org`` and the weekly snapshots it makes, committed."""
    with tenancy.tenant_context(session, org.id):
        scaled_quoting_cycle(session, owner)
        trends.recompute(session, full=True)
        session.commit()
