"""The data migration of issue 17: a cycle's indirect cost per week becomes one indirect cost item (other, per
week, estimated, no label), and the downgrade leaves the weekly figure as it was."""

from datetime import UTC, datetime
from decimal import Decimal

from alembic import command
from sqlalchemy import text

from engpass.cli.db import alembic_config
from engpass.db import make_engine
from tests.unit.test_migrations import empty_database  # noqa: F401  (the fixture)

BEFORE = "9b2e6d4a1c73"
ITEMS = "ad7ff08ccd23"


def test_each_weekly_indirect_cost_becomes_one_item_and_the_downgrade_keeps_the_figure(empty_database):  # noqa: F811
    config = alembic_config(empty_database)
    command.upgrade(config, BEFORE)
    engine = make_engine(empty_database)
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with engine.begin() as conn:
        org_id = conn.execute(
            text(
                "INSERT INTO organizations (name, slug, kind, locale, timezone, currency, default_hourly_rate, "
                "created_at) VALUES ('Alt GmbH', 'alt-gmbh', 'company', 'de', 'Europe/Berlin', 'EUR', 65, :now) "
                "RETURNING id"
            ),
            {"now": now},
        ).scalar_one()
        for title, weekly in (("Mit", "250.50"), ("Ohne", None)):
            conn.execute(
                text(
                    "INSERT INTO cycles (title, category, why, stage, focus_warning, bottleneck_at, created_at, "
                    "updated_at, organization_id, indirect_cost_per_week) VALUES (:title, 'quoting', '', "
                    "'baseline', false, :now, :now, :now, :org, :weekly)"
                ),
                {"title": title, "now": now, "org": org_id, "weekly": weekly},
            )
    engine.dispose()

    command.upgrade(config, ITEMS)
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.title, i.kind, i.period, i.source, i.label, i.quantity, i.unit_value, i.organization_id "
                "FROM indirect_cost_items i JOIN cycles c ON c.id = i.cycle_id"
            )
        ).all()
    engine.dispose()
    assert [(r[0], r[1], r[2], r[3], r[4], r[5], Decimal(str(r[6])), r[7]) for r in rows] == [
        ("Mit", "other", "week", "estimated", "", None, Decimal("250.50"), org_id)
    ]

    command.downgrade(config, BEFORE)
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        weekly = dict(conn.execute(text("SELECT title, indirect_cost_per_week FROM cycles")).all())
    engine.dispose()
    assert {title: None if value is None else Decimal(str(value)) for title, value in weekly.items()} == {
        "Mit": Decimal("250.50"),
        "Ohne": None,
    }
