"""Weekly trend snapshots: values, backfill, idempotency, and marking changes for the workers."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from engpass import task_names, tenancy
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Stage
from engpass.db import utcnow
from engpass.demo.cycles import CHAINS, build_chain
from engpass.demo.data import load_demo
from engpass.organizations.models import Organization
from engpass.outbox.models import OutboxMessage
from engpass.trends import service as trends
from engpass.trends.models import TrendSnapshot, TrendState
from tests.support.cycles import scaled_quoting_cycle


@pytest.fixture
def org_ctx(session, make_user, make_org):
    owner = make_user()
    org = make_org("Trend GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        yield session, owner, org


def _messages(session):
    return session.scalars(select(OutboxMessage).where(OutboxMessage.task_name == task_names.RECOMPUTE_TRENDS)).all()


def test_a_burst_of_edits_in_one_transaction_asks_the_workers_once(org_ctx):
    session, owner, org = org_ctx
    scaled_quoting_cycle(session, owner)
    session.commit()
    (message,) = _messages(session)
    assert message.kwargs == {"org_id": org.id}
    state = session.scalars(select(TrendState)).one()
    assert state.version >= 6 and state.computed_version == 0
    assert not trends.is_current(session)


def test_each_transaction_asks_again(org_ctx):
    session, owner, _ = org_ctx
    cycles.create_cycle(session, title="A", category=Category.leads, why="", owner_id=None, actor_id=owner.id)
    session.commit()
    cycles.create_cycle(
        session, title="B", category=Category.leads, why="", owner_id=None, actor_id=owner.id, confirm_second_open=True
    )
    session.commit()
    assert len(_messages(session)) == 2


def test_recompute_writes_the_current_week_with_sabines_numbers(org_ctx):
    session, owner, org = org_ctx
    scaled_quoting_cycle(session, owner)
    weeks = trends.recompute(session)
    session.commit()
    assert weeks >= 1
    latest = trends.latest_snapshots(session)[-1]
    assert latest.week_start == trends.week_start(date.today())
    assert latest.level == 2
    assert latest.hours_saved_per_week == Decimal("8")
    assert latest.euros_per_year == Decimal("27040.00")
    assert latest.cycles_per_stage["decided"] == 1
    assert latest.proven_share == 100
    assert latest.median_prototype_days == Decimal("20.0")
    assert trends.is_current(session)


def test_recompute_is_idempotent(org_ctx):
    session, owner, _ = org_ctx
    scaled_quoting_cycle(session, owner)
    trends.recompute(session)
    first = [(s.week_start, s.level, s.euros_per_year, s.scores) for s in trends.latest_snapshots(session, 500)]
    trends.recompute(session)
    session.expire_all()
    second = [(s.week_start, s.level, s.euros_per_year, s.scores) for s in trends.latest_snapshots(session, 500)]
    assert first == second
    assert session.scalar(select(func.count(TrendSnapshot.id))) == len(first)


def test_backfill_gives_a_year_of_history_a_year_of_trend(session):
    load_demo(session)
    org = session.scalars(select(Organization).where(Organization.name == "Müller Metallbau GmbH")).one()
    with tenancy.tenant_context(session, org.id):
        weeks = trends.recompute(session, full=True)
        snapshots = trends.latest_snapshots(session, 500)
    assert weeks == len(snapshots) >= 40
    levels = [s.level for s in snapshots]
    assert levels[0] == 1 and levels == sorted(levels), "maturity grows along a healthy demo history"
    assert snapshots[-1].euros_per_year > snapshots[0].euros_per_year


def test_snapshots_of_another_organization_are_invisible(session, make_org, make_user):
    owner = make_user()
    a, b = make_org("A", owner=owner), make_org("B", owner=owner)
    with tenancy.tenant_context(session, a.id):
        scaled_quoting_cycle(session, owner)
        trends.recompute(session)
        session.commit()
    with tenancy.tenant_context(session, b.id):
        assert trends.latest_snapshots(session) == []


def test_a_rolled_back_savepoint_does_not_swallow_the_next_request(org_ctx):
    session, owner, _ = org_ctx
    savepoint = session.begin_nested()
    cycles.create_cycle(session, title="A", category=Category.leads, why="", owner_id=None, actor_id=owner.id)
    savepoint.rollback()
    cycles.create_cycle(session, title="B", category=Category.leads, why="", owner_id=None, actor_id=owner.id)
    session.commit()
    assert len(_messages(session)) == 1


def test_changes_through_the_requests_scoped_session_ask_the_workers(app, session, make_user, make_org):
    from engpass.db import db

    owner = make_user()
    org = make_org(owner=owner)
    with app.app_context(), tenancy.tenant_context(db.session, org.id):
        cycles.create_cycle(
            db.session, title="Scoped", category=Category.other, why="", owner_id=None, actor_id=owner.id
        )
        db.session.commit()
    assert len(_messages(session)) == 1


# --- rewriting only the weeks a change can affect ---------------------------------------------------------

COMPARED = [column.key for column in TrendSnapshot.__table__.columns if column.key not in ("id", "computed_at")]


@pytest.fixture
def history(org_ctx):
    """Müller Metallbau's demo chain (two decided cycles, one in result, about 48 weeks), every week computed."""
    session, owner, _ = org_ctx
    chain = build_chain(session, CHAINS["Müller Metallbau GmbH"], date.today() - timedelta(days=3), owner.id, seed=1)
    trends.recompute(session)
    session.commit()
    return session, owner, chain


def _snapshots(session):
    return session.scalars(
        select(TrendSnapshot).order_by(TrendSnapshot.week_start).execution_options(populate_existing=True)
    ).all()


def _values(session):
    return [{name: getattr(s, name) for name in COMPARED} for s in _snapshots(session)]


def _computed_at(session):
    return {s.week_start: s.computed_at for s in _snapshots(session)}


def _state(session):
    return session.scalars(select(TrendState).execution_options(populate_existing=True)).one()


def _recompute_like_a_full_one(session):
    """Recompute after a change as the worker does; a full rewrite then gives the same rows, every column of
    every week, and no other weeks. Returns the weeks the first run wrote."""
    before = _computed_at(session)
    weeks = trends.recompute(session)
    after = _computed_at(session)
    incremental = _values(session)
    trends.recompute(session, full=True)
    assert _values(session) == incremental
    assert trends.is_current(session) and _state(session).dirty_since is None
    written = {week for week, at in after.items() if at != before.get(week)}
    assert len(written) == weeks
    return written


def _weeks_from(session, day):
    """The stored weeks a change dated ``day`` must rewrite: from its week on, a day of margin before."""
    start = trends.week_start(min(day, utcnow().date()) - timedelta(days=1))
    return {week for week in _computed_at(session) if week >= start}


def test_the_first_recompute_writes_every_week(history):
    session, _, chain = history
    weeks = _computed_at(session)
    assert len(weeks) >= 40
    assert min(weeks) == trends.week_start(chain[0].bottleneck_at.date())


def test_a_measurement_this_week_rewrites_only_the_last_weeks(history):
    session, owner, chain = history
    before = _values(session)
    cycles.add_measurement(
        session,
        chain[-1],
        {"measured_on": date.today(), "kpi_value": Decimal(3), "hours_per_week": Decimal(2)},
        owner.id,
    )
    written = _recompute_like_a_full_one(session)
    assert written == _weeks_from(session, date.today()) and 1 <= len(written) <= 2
    assert _values(session)[-1] != before[-1]


def test_a_backdated_measurement_rewrites_from_its_week_on(history):
    session, owner, chain = history
    day = chain[1].decided_at.date() - timedelta(days=20)
    cycles.add_measurement(
        session, chain[1], {"measured_on": day, "kpi_value": Decimal(1), "hours_per_week": Decimal(1)}, owner.id
    )
    written = _recompute_like_a_full_one(session)
    assert written == _weeks_from(session, day)
    assert 10 < len(written) < len(_computed_at(session))


def test_deleting_a_measurement_rewrites_from_its_week_on(history):
    session, owner, chain = history
    measurement = chain[0].measurements[-2]
    cycles.delete_measurement(session, chain[0], measurement, owner.id)
    assert _recompute_like_a_full_one(session) == _weeks_from(session, measurement.measured_on)


def test_moving_a_measurement_rewrites_from_the_earlier_of_its_days(history):
    session, owner, chain = history
    measurement = chain[1].measurements[-1]
    old_day = measurement.measured_on
    cycles.update_measurement(session, chain[1], measurement, {"measured_on": old_day + timedelta(days=30)}, owner.id)
    assert _recompute_like_a_full_one(session) == _weeks_from(session, old_day)


def test_editing_a_baseline_rewrites_the_cycles_whole_life(history):
    session, owner, chain = history
    before = _values(session)
    cycles.save_baseline(session, chain[0], {"hours_per_week": Decimal(30), "kpi_target": Decimal(1)}, None, owner.id)
    written = _recompute_like_a_full_one(session)
    assert written == _weeks_from(session, chain[0].bottleneck_at.date()) == set(_computed_at(session))
    assert _values(session) != before


def test_stage_changes_back_and_forth_rewrite_the_cycles_weeks(history):
    session, owner, chain = history
    first_day = chain[1].bottleneck_at.date()
    cycles.change_stage(session, chain[1], Stage.result, owner.id)
    assert _recompute_like_a_full_one(session) == _weeks_from(session, first_day)
    cycles.change_stage(session, chain[1], Stage.decided, owner.id)
    assert _recompute_like_a_full_one(session) == _weeks_from(session, first_day)
    cycles.change_stage(session, chain[2], Stage.prototype, owner.id)
    assert _recompute_like_a_full_one(session) == _weeks_from(session, chain[2].bottleneck_at.date())


def test_deleting_the_first_cycle_removes_its_weeks(history):
    session, owner, chain = history
    first, second = chain[0], chain[1]
    cycles.delete_cycle(session, first, owner.id)
    written = _recompute_like_a_full_one(session)
    weeks = _computed_at(session)
    assert min(weeks) == trends.week_start(second.bottleneck_at.date())
    assert written == set(weeks)


def test_a_change_after_weeks_without_a_recompute_writes_the_weeks_since(history):
    session, owner, chain = history
    last_run = date.today() - timedelta(days=23)
    session.execute(delete(TrendSnapshot).where(TrendSnapshot.week_start > trends.week_start(last_run)))
    trends.recompute(session, today=last_run, full=True)
    _state(session).computed_at = datetime.combine(last_run, time(12), tzinfo=UTC)
    session.flush()
    cycles.add_measurement(
        session,
        chain[-1],
        {"measured_on": date.today(), "kpi_value": Decimal(3), "hours_per_week": Decimal(2)},
        owner.id,
    )
    written = _recompute_like_a_full_one(session)
    assert written == _weeks_from(session, last_run)
    assert max(written) == trends.week_start(date.today()) and len(written) >= 4


def test_a_change_without_a_day_rewrites_every_week(history):
    session, _, _ = history
    trends.mark_changed(session)
    assert _recompute_like_a_full_one(session) == set(_computed_at(session))


def test_without_changes_a_recompute_rewrites_only_the_current_weeks(history):
    session, _, _ = history
    assert _recompute_like_a_full_one(session) == _weeks_from(session, date.today())


def test_pending_changes_merge_to_the_earliest_day_and_none_wins(org_ctx):
    session, _, _ = org_ctx
    day = date(2026, 3, 10)
    trends.mark_changed(session, day)
    assert _state(session).dirty_since == day and not trends.is_current(session)
    trends.recompute(session)
    assert trends.is_current(session) and _state(session).dirty_since is None
    trends.mark_changed(session, day)
    assert _state(session).dirty_since == day
    trends.mark_changed(session, day + timedelta(days=30))
    assert _state(session).dirty_since == day
    trends.mark_changed(session, day - timedelta(days=30))
    assert _state(session).dirty_since == day - timedelta(days=30)
    trends.mark_changed(session)
    assert _state(session).dirty_since is None
    trends.mark_changed(session, day)
    assert _state(session).dirty_since is None and not trends.is_current(session)
    trends.recompute(session)
    trends.mark_changed(session)
    assert _state(session).dirty_since is None and not trends.is_current(session)


def test_a_day_of_margin_covers_timestamps_read_back_in_a_zone_east_of_utc(org_ctx):
    session, owner, _ = org_ctx
    first, second = (
        cycles.create_cycle(
            session,
            title=title,
            category=Category.quoting,
            why="Hebel",
            owner_id=owner.id,
            actor_id=owner.id,
            confirm_second_open=True,
        )
        for title in ("Angebote", "Rechnungen")
    )
    sunday = trends.week_start(date.today()) - timedelta(weeks=3, days=1)
    first.bottleneck_at = datetime.combine(sunday - timedelta(weeks=3), time(12), tzinfo=UTC)
    # Sunday 23:30 UTC counts for that Sunday's week, but reads as Monday in a database session's zone east of UTC.
    second.bottleneck_at = datetime.combine(sunday, time(23, 30), tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    second.focus_warning = False  # so that its reason counts for focus from that Sunday on
    trends.recompute(session, full=True)
    cycles.update_bottleneck(session, second, {"why": ""}, owner.id)
    assert trends.week_start(sunday) in _recompute_like_a_full_one(session)
