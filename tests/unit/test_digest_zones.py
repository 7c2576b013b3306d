"""One read of an organization's week serves readers in every time zone: each zone's week is cut from it
without a query, and says what a digest built for that zone alone says."""

from datetime import date, datetime

import pytest
from sqlalchemy import update

from engpass import tenancy
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, StageChange
from engpass.digest.content import build, load

FIRST, LAST = date(2026, 11, 30), date(2026, 12, 6)
# Sunday 10:30 UTC is Monday 00:30 in Kiritimati (UTC+14); next Monday 10:30 UTC is Sunday 23:30 in Pago Pago
# (UTC-11); Sunday 23:30 UTC is Monday 00:30 in Berlin.
AT = {
    "Kiritimati": datetime(2026, 11, 29, 10, 30),
    "Pago Pago": datetime(2026, 12, 7, 10, 30),
    "Berlin": datetime(2026, 11, 29, 23, 30),
    "Mittwoch": datetime(2026, 12, 2, 12, 0),
}
ZONES = {
    "Pacific/Kiritimati": ["Mittwoch", "Berlin", "Kiritimati"],
    "Pacific/Pago_Pago": ["Pago Pago", "Mittwoch"],
    "Europe/Berlin": ["Mittwoch", "Berlin"],
    "UTC": ["Mittwoch"],
}


@pytest.fixture
def week(session, make_user, make_org):
    owner = make_user()
    org = make_org("Zonen GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        for title, at in AT.items():
            cycle = cycles.create_cycle(
                session,
                title=title,
                category=Category.leads,
                why="",
                owner_id=owner.id,
                actor_id=owner.id,
                confirm_second_open=True,
            )
            session.flush()
            session.execute(update(StageChange).where(StageChange.cycle_id == cycle.id).values(created_at=at))
        session.commit()
        yield session


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_each_zone_gets_its_own_week_from_the_one_read(week, count_queries, zone):
    shared = load(week, FIRST, LAST)
    with count_queries() as counter:
        digest = shared.in_zone(zone)
    assert counter.count == 0
    assert [change.cycle_title for change in digest.changes] == ZONES[zone]
    assert digest == build(week, FIRST, LAST, zone)
