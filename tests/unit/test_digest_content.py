"""What a weekly digest says about one organization: the week's changes in the reader's timezone,
the savings and the maturity trend, from the snapshots only."""

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from engpass import tenancy
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Decision, Measurement, Stage, StageChange
from engpass.db import utcnow
from engpass.digest.content import (
    MAX_CHANGES,
    ChangeKind,
    OrgWeek,
    asks_for_candidates,
    build,
    current_weeks,
    load,
    previous_week,
)
from engpass.radar import service as radar
from engpass.radar.models import Pattern, RadarRule
from engpass.trends import service as trends
from engpass.trends.service import week_start
from tests.support.cycles import scaled_quoting_cycle


@pytest.fixture
def org_ctx(session, make_user, make_org):
    owner = make_user()
    org = make_org("Digest GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        yield session, owner, org


def _this_week():
    first = week_start(date.today())
    return first, first + timedelta(days=6)


def test_previous_week_is_monday_to_sunday_before():
    assert previous_week(date(2026, 12, 7)) == (date(2026, 11, 30), date(2026, 12, 6))  # a Monday
    assert previous_week(date(2026, 12, 13)) == (date(2026, 11, 30), date(2026, 12, 6))  # a Sunday


def test_the_weeks_changes_in_reading_order_with_one_event_per_measurement(org_ctx):
    session, owner, _ = org_ctx
    scaled_quoting_cycle(session, owner)
    session.commit()
    digest = build(session, *_this_week(), "UTC")
    kinds = [c.kind for c in reversed(digest.changes)]
    # Named, baseline, solution, prototype, then the measurement (which moved it to result), then the decision.
    assert kinds == [
        ChangeKind.named,
        ChangeKind.moved,
        ChangeKind.moved,
        ChangeKind.moved,
        ChangeKind.measured,
        ChangeKind.decided,
    ]
    decided = digest.changes[0]
    assert decided.decision == Decision.scale and decided.cycle_title == "Angebote"
    assert digest.changes[1].measured_on == date.today()


def test_a_step_back_is_reported_as_such(org_ctx):
    session, owner, _ = org_ctx
    c = scaled_quoting_cycle(session, owner)
    cycles.change_stage(session, c, Stage.result, owner.id)
    session.commit()
    digest = build(session, *_this_week(), "UTC")
    assert digest.changes[0].kind == ChangeKind.moved_back
    assert digest.changes[0].stage == Stage.result


def test_a_quiet_week_has_no_changes_but_keeps_the_standing(org_ctx):
    session, owner, _ = org_ctx
    scaled_quoting_cycle(session, owner)
    trends.recompute(session, full=True)
    session.commit()
    first, last = _this_week()
    quiet = build(session, first + timedelta(days=7), last + timedelta(days=7), "UTC")
    assert quiet.changes == []
    assert quiet.latest is not None and quiet.latest.week_start == first
    assert quiet.euros_gained == 0


def test_savings_level_and_chart_come_from_the_snapshots(org_ctx):
    session, owner, _ = org_ctx
    scaled_quoting_cycle(session, owner)
    trends.recompute(session, full=True)
    session.commit()
    digest = build(session, *_this_week(), "UTC")
    assert digest.latest is not None
    assert digest.level == digest.latest.level >= 1
    assert digest.euros_gained == digest.latest.euros_per_year > 0
    assert digest.series[-1].week_start == week_start(date.today())
    assert len(digest.series) <= 12


def test_the_week_is_the_readers_week(org_ctx):
    session, owner, _ = org_ctx
    c = cycles.create_cycle(
        session, title="Nachts", category=Category.leads, why="", owner_id=owner.id, actor_id=owner.id
    )
    session.flush()
    # Sunday 23:30 UTC is already Monday 00:30 in Berlin (winter time): the next week there, this week in UTC.
    session.execute(
        update(StageChange).where(StageChange.cycle_id == c.id).values(created_at=datetime(2026, 11, 29, 23, 30))
    )
    session.commit()
    berlin_next = build(session, date(2026, 11, 30), date(2026, 12, 6), "Europe/Berlin")
    berlin_before = build(session, date(2026, 11, 23), date(2026, 11, 29), "Europe/Berlin")
    utc_before = build(session, date(2026, 11, 23), date(2026, 11, 29), "UTC")
    assert [ch.cycle_title for ch in berlin_next.changes] == ["Nachts"]
    assert berlin_before.changes == []
    assert [ch.cycle_title for ch in utc_before.changes] == ["Nachts"]


def test_a_busy_week_is_cut_with_a_count_of_the_rest(org_ctx):
    session, owner, _ = org_ctx
    for n in range(MAX_CHANGES + 3):
        cycles.create_cycle(
            session,
            title=f"Engpass {n}",
            category=Category.leads,
            why="",
            owner_id=owner.id,
            actor_id=owner.id,
            confirm_second_open=True,
        )
    session.commit()
    digest = build(session, *_this_week(), "UTC")
    assert len(digest.changes) == MAX_CHANGES
    assert digest.more_changes == 3


def test_another_organizations_changes_never_show(org_ctx, make_user, make_org):
    session, owner, org = org_ctx
    scaled_quoting_cycle(session, owner)
    session.commit()
    other = make_org("Andere GmbH", owner=make_user())
    with tenancy.tenant_context(session, other.id):
        digest = build(session, *_this_week(), "UTC")
        assert digest.changes == [] and digest.latest is None
        assert session.scalars(select(Measurement)).all() == []


def test_the_digest_costs_a_fixed_number_of_queries(org_ctx, count_queries):
    session, owner, _ = org_ctx
    for n in range(3):
        scaled_quoting_cycle(session, owner, title=f"Zyklus {n}")
    trends.recompute(session, full=True)
    session.commit()
    with count_queries() as counter:
        build(session, *_this_week(), "UTC")
    # Two more (the organization and its open candidates) in the week a quarter's question is asked.
    assert counter.count == 4 + (2 if asks_for_candidates(_this_week()[0]) else 0)


@pytest.mark.parametrize(
    ("first", "asks"),
    [
        (date(2026, 12, 14), False),
        (date(2026, 12, 21), True),  # sent 28 December – 3 January: the year's first quarter begins
        (date(2026, 12, 28), False),
        (date(2027, 3, 22), True),  # sent 29 March – 4 April: the second quarter begins on 1 April
        (date(2027, 3, 29), False),
        (date(2027, 6, 21), True),  # sent 28 June – 4 July
        (date(2027, 9, 20), True),  # sent 27 September – 3 October
        (date(2027, 5, 3), False),
    ],
)
def test_the_quarters_question_is_asked_in_the_week_a_quarter_begins(first, asks):
    assert asks_for_candidates(first) is asks


def test_every_quarter_asks_exactly_once_a_year_four_times():
    mondays = [date(2027, 1, 4) + timedelta(weeks=n) for n in range(52)]
    assert [first for first in mondays if asks_for_candidates(first)] == [
        date(2027, 3, 22),
        date(2027, 6, 21),
        date(2027, 9, 20),
        date(2027, 12, 20),
    ]


def test_the_quarters_digest_carries_the_backlogs_top_three(org_ctx):
    from decimal import Decimal

    from engpass.candidates import service as candidates

    session, owner, _ = org_ctx
    for title, hours in (("Unbekannt", None), ("Klein", 1), ("Groß", 20), ("Mittel", 5)):
        candidates.propose(session, {"title": title, "hours_per_week": hours and Decimal(hours)}, owner.id)
    session.commit()
    asked = build(session, date(2027, 3, 22), date(2027, 3, 28), "Europe/Berlin")
    assert asked.asks_for_candidates
    assert [(line.title, line.cost_per_year) for line in asked.backlog] == [
        ("Groß", Decimal("67600.00")),
        ("Mittel", Decimal("16900.00")),
        ("Klein", Decimal("3380.00")),
    ]
    assert build(session, date(2027, 3, 22), date(2027, 3, 28), "Europe/Berlin") == asked
    quiet = build(session, date(2027, 3, 29), date(2027, 4, 4), "Europe/Berlin")
    assert not quiet.asks_for_candidates and quiet.backlog == []


# What the stored week spares: the week's rows, read from these tables.
WEEK_TABLES = ("stage_changes", "measurements", "trend_snapshots", "radar_findings")


def _reads_week_rows(statements: list[str]) -> bool:
    return any(f"FROM {table}" in s or f"JOIN {table}" in s for s in statements for table in WEEK_TABLES)


def _recompute_as_of_next_monday(session):
    """The recompute that runs on the Monday after this week: it stores this week for the digests."""
    trends.recompute(session, today=week_start(date.today()) + timedelta(weeks=1), full=True)
    session.commit()


def _current_week(session, first, last):
    org_id = tenancy.require_org_id()
    return current_weeks(session, [org_id], first, last)[org_id]


def test_the_stored_week_tells_what_the_rows_tell_in_one_query(org_ctx, count_queries):
    session, owner, _ = org_ctx
    scaled_quoting_cycle(session, owner)
    _recompute_as_of_next_monday(session)
    first, last = _this_week()

    with count_queries() as counter:
        stored = _current_week(session, first, last)

    assert not _reads_week_rows(counter.statements)
    # The state's one row; the quarter's backlog is read as it is, four times a year.
    assert len(counter.statements) == (3 if asks_for_candidates(first) else 1)
    assert stored == load(session, first, last)
    assert [c.kind for c in stored.in_zone("UTC").changes][0] == ChangeKind.decided
    assert stored.snapshots and stored.in_zone("Europe/Berlin") == build(session, first, last, "Europe/Berlin")


def test_a_change_after_the_recompute_is_read_from_the_rows(org_ctx, count_queries):
    session, owner, _ = org_ctx
    cycle = scaled_quoting_cycle(session, owner)
    _recompute_as_of_next_monday(session)
    cycles.change_stage(session, cycle, Stage.result, owner.id)
    session.commit()
    first, last = _this_week()

    with count_queries() as counter:
        week = _current_week(session, first, last)

    assert _reads_week_rows(counter.statements)
    assert week == load(session, first, last)
    assert week.in_zone("UTC").changes[0].kind == ChangeKind.moved_back


def test_a_week_stored_for_another_week_is_not_taken(org_ctx, count_queries):
    session, owner, _ = org_ctx
    scaled_quoting_cycle(session, owner)
    # Recomputed today: it stores last week, not this one.
    trends.recompute(session, full=True)
    session.commit()
    first, last = _this_week()

    with count_queries() as counter:
        week = _current_week(session, first, last)

    assert _reads_week_rows(counter.statements)
    assert week == load(session, first, last) and week.moves


def test_the_stored_findings_count_their_days_on_when_read():
    first, last = _this_week()
    finding = radar.Shown(Pattern.isolated_pilot, RadarRule.no_rollout, 7, "Angebote", None, {"days": 20}, first)
    week = OrgWeek(first, last, [], [], [], [finding], False, [])
    # Written today (UTC, like the radar).
    document = week.as_document()

    later = OrgWeek.from_document(document, first, utcnow().date() + timedelta(days=3))

    assert later is not None and later.warnings == [replace(finding, figures={"days": 23})]
    assert OrgWeek.from_document(document, first, utcnow().date()) == week
    assert OrgWeek.from_document(document, first - timedelta(weeks=1), utcnow().date()) is None
    assert OrgWeek.from_document({**document, "v": 0}, first, utcnow().date()) is None
