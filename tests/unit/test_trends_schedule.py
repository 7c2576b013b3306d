"""Which organizations the nightly run recomputes: a change pending, a new week, a radar threshold crossed."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from engpass import tenancy
from engpass.cycles import service as cycles
from engpass.cycles import sponsors
from engpass.cycles.models import Category
from engpass.db import utcnow
from engpass.maturity.facts import load_history
from engpass.radar import rules as radar_rules
from engpass.radar import service as radar
from engpass.radar.models import RadarRule
from engpass.trends import service as trends
from engpass.trends.models import TrendSchedule
from tests.support.cycles import scaled_quoting_cycle


def _recompute(session, org, today=None):
    with tenancy.tenant_context(session, org.id):
        trends.recompute(session, today=today)
        session.commit()


def _due(session, orgs, today):
    return set(trends.due_organizations(session, today)) & {org.id for org in orgs}


def _utc_day(at: datetime) -> date:
    return (at.astimezone(UTC) if at.tzinfo is not None else at).date()


def _situation(session, org):
    history = load_history(session, org.default_hourly_rate, org.working_weeks_per_year)
    return radar.situation(session, history.cycles, history.measurements, history.hourly_rate, history.weeks_per_year)


def test_the_nightly_selection_is_the_changed_the_new_week_and_the_never_computed(session, make_user, make_org):
    today = utcnow().date()
    owner = make_user()
    quiet, changed, last_week, never = (make_org(f"Nacht {i} GmbH", owner=owner) for i in range(4))
    orgs = (quiet, changed, last_week, never)
    _recompute(session, quiet)
    _recompute(session, changed)
    _recompute(session, last_week, today - timedelta(weeks=1))
    with tenancy.tenant_context(session, changed.id):
        cycles.create_cycle(session, title="Neu", category=Category.leads, why="", owner_id=None, actor_id=owner.id)
        session.commit()
    assert _due(session, orgs, today) == {changed.id, last_week.id, never.id}
    # Recomputed, each is due again on next week's Monday and not before.
    for org in (changed, last_week, never):
        _recompute(session, org)
    monday = trends.week_start(today) + timedelta(weeks=1)
    assert _due(session, orgs, monday - timedelta(days=1)) == set()
    assert _due(session, orgs, monday) == {org.id for org in orgs}


def test_a_change_after_the_recompute_it_asked_for_makes_the_organization_due_today(session, make_user, make_org):
    owner = make_user()
    org = make_org(owner=owner)
    _recompute(session, org)
    with tenancy.tenant_context(session, org.id):
        cycles.create_cycle(session, title="A", category=Category.leads, why="", owner_id=None, actor_id=owner.id)
        session.commit()
        # The recompute the change asked for was lost: tonight's run finds the organization.
        assert not trends.is_current(session)
    assert _due(session, [org], utcnow().date()) == {org.id}


def test_the_selection_is_one_query_however_many_organizations(session, make_org, count_queries):
    today = utcnow().date()
    few = [make_org(f"Wenig {i} GmbH") for i in range(2)]
    with count_queries() as small:
        trends.due_organizations(session, today)
    many = [make_org(f"Viel {i} GmbH") for i in range(8)]
    for org in many[:4]:
        _recompute(session, org)
    with count_queries() as large:
        due = trends.due_organizations(session, today)
    assert small.count == large.count == 1
    assert set(due) >= {org.id for org in few + many[4:]} and not set(due) & {org.id for org in many[:4]}


def test_a_radar_threshold_makes_the_organization_due_on_its_day(session, make_user, make_org):
    owner = make_user()
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle = scaled_quoting_cycle(session, owner)
        session.commit()
        decided = _utc_day(cycle.decided_at)
        # Decided "scale", no rollout: the finding applies from the 15th day after the decision.
        assert radar_rules.next_change(_situation(session, org), decided) == decided + timedelta(days=15)
    eve = decided + timedelta(days=14)
    _recompute(session, org, eve)
    with tenancy.tenant_context(session, org.id):
        assert RadarRule.no_rollout not in {f.rule for f in radar.current(session)}
        assert session.scalar(select(TrendSchedule.due_on)) == decided + timedelta(days=15)
    assert _due(session, [org], eve) == set()
    assert _due(session, [org], decided + timedelta(days=15)) == {org.id}
    _recompute(session, org, decided + timedelta(days=15))
    with tenancy.tenant_context(session, org.id):
        assert RadarRule.no_rollout in {f.rule for f in radar.current(session)}


def test_next_change_names_every_threshold_ahead_and_none_behind(session, make_user, make_org):
    owner = make_user()
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle = scaled_quoting_cycle(session, owner)
        session.commit()
        facts = _situation(session, org)
    decided = _utc_day(cycle.decided_at)
    named = _utc_day(cycle.bottleneck_at)
    expected = [
        decided + timedelta(days=15),  # no rollout
        decided + timedelta(days=61),  # scaled, not measured (measured on the day of the decision)
        decided + timedelta(days=91),  # a decided cycle without sponsor leaves the sponsor rule
        decided + timedelta(days=366),  # the decision is no longer watched
        named + timedelta(days=366),  # the cycle leaves the owner rule's window
    ]
    for day in sorted(expected):
        assert radar_rules.next_change(facts, day - timedelta(days=1)) == day
    assert radar_rules.next_change(facts, max(expected)) is None


def test_the_findings_day_counts_move_on_between_recomputes(session, make_user, make_org):
    owner = make_user()
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle = scaled_quoting_cycle(session, owner)
        cycle.decided_at = datetime.combine(utcnow().date() - timedelta(days=20), time(9), tzinfo=UTC)
        session.commit()
        trends.recompute(session)
        session.commit()

        def days(today: date | None = None) -> int:
            (finding,) = [f for f in radar.current(session, today) if f.rule == RadarRule.no_rollout]
            return finding.figures["days"]

        assert days() == 20
        assert days(utcnow().date() + timedelta(days=3)) == 23


def test_naming_a_sponsor_asks_for_a_recompute(session, make_user, make_org):
    owner = make_user()
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle = scaled_quoting_cycle(session, owner)
        trends.recompute(session)
        session.commit()
        assert RadarRule.no_sponsor in {f.rule for f in radar.current(session)}
        assert sponsors.set_sponsor(session, cycle, owner.id, owner.id)
        session.commit()
        assert not trends.is_current(session)
        trends.recompute(session)
        assert RadarRule.no_sponsor not in {f.rule for f in radar.current(session)}
