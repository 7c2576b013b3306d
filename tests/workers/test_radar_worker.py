"""The workers compute the anti-pattern radar with the trends, and the dashboard shows what they found."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from engpass import task_names, tenancy
from engpass.cycles import service as cycles
from engpass.cycles.models import Cycle, Measurement
from engpass.demo.cycles import METALLBAU, build_chain
from engpass.maturity.facts import load_history
from engpass.radar import service as radar
from engpass.radar.models import RadarFinding, RadarRule
from engpass.rollouts.models import Reach, Rollout
from engpass.trends.models import TrendSnapshot
from tests.support.cycles import scaled_quoting_cycle


def _findings(session, org):
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        return {(f.rule, f.cycle_id): f for f in session.scalars(select(RadarFinding))}


def _scaled_weeks_ago(session, owner, days: int) -> int:
    """Sabine's quoting cycle, backed by her, decided to scale ``days`` days ago and measured the day before."""
    cycle = scaled_quoting_cycle(session, owner)
    cycle.sponsor_id = owner.id
    cycle.decided_at = cycle.decided_at - timedelta(days=days)
    session.execute(
        update(Measurement)
        .where(Measurement.cycle_id == cycle.id)
        .values(measured_on=date.today() - timedelta(days=days + 1))
    )
    session.commit()
    return cycle.id


def test_the_worker_computes_the_radar_and_the_dashboard_shows_it(
    app, celery, client, session, make_user, make_org, login
):
    owner = make_user(name="Sabine Müller")
    org = make_org("Radar GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle_id = _scaled_weeks_ago(session, owner, 61)
    task = celery.tasks[task_names.RECOMPUTE_TRENDS]
    task.apply(kwargs={"org_id": org.id}, throw=True).get()

    found = _findings(session, org)
    assert set(found) == {(RadarRule.scaled_unmeasured, cycle_id), (RadarRule.no_rollout, cycle_id)}
    opened = found[(RadarRule.no_rollout, cycle_id)].opened_on

    login(owner)
    page = client.get(f"/o/{org.slug}/").text
    assert "Warnsignale" in page and 'id="radar"' in page
    assert "Isolierter Pilot" in page
    assert "Rollout eröffnen" in page or "Rollout" in page
    assert "mehr als 14 Tage" in page and "mehr als 60 Tage" in page
    assert f"/o/{org.slug}/cycles/{cycle_id}" in page

    # The rollout is opened and the cycle measured again: the change recomputes, the findings go.
    with tenancy.tenant_context(session, org.id):
        session.add(
            Rollout(cycle_id=cycle_id, reach=Reach.people, target_count=10, started_on=date.today() - timedelta(days=5))
        )
        session.flush()
        cycles.add_measurement(
            session, session.get(Cycle, cycle_id), {"measured_on": date.today(), "kpi_value": Decimal(4)}, owner.id
        )
        session.commit()
    task.apply(kwargs={"org_id": org.id}, throw=True).get()
    assert _findings(session, org) == {}
    assert "Keine Warnsignale" in client.get(f"/o/{org.slug}/").text
    assert opened == date.today()


def test_a_finding_keeps_the_day_it_opened_and_the_nightly_run_finds_what_time_brought(
    app, celery, session, make_user, make_org
):
    owner = make_user()
    org = make_org("Nacht-Radar GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle_id = _scaled_weeks_ago(session, owner, 10)
    task = celery.tasks[task_names.RECOMPUTE_TRENDS]
    task.apply(kwargs={"org_id": org.id}, throw=True).get()
    assert set(_findings(session, org)) == set(), "ten days after the decision nothing is due yet"

    # Five days pass without a change: the nightly batch sees the rollout missing.
    with tenancy.tenant_context(session, org.id):
        decided = session.get(Cycle, cycle_id)
        decided.decided_at -= timedelta(days=5)
        session.commit()
    batch = celery.tasks[task_names.RECOMPUTE_TRENDS_BATCH]
    batch.apply(kwargs={"org_ids": [org.id]}, throw=True).get()
    first = _findings(session, org)
    assert set(first) == {(RadarRule.no_rollout, cycle_id)}
    batch.apply(kwargs={"org_ids": [org.id]}, throw=True).get()  # a retry: the same row, the same day
    again = _findings(session, org)
    assert again[(RadarRule.no_rollout, cycle_id)].id == first[(RadarRule.no_rollout, cycle_id)].id
    assert again[(RadarRule.no_rollout, cycle_id)].figures == {"days": 15}


def test_open_findings_are_missing_for_level_four_in_the_current_week_only(
    app, celery, client, session, make_user, make_org, login
):
    owner = make_user()
    org = make_org("Deckel GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        build_chain(session, METALLBAU, date.today() - timedelta(days=3), owner.id, seed=7)
        session.commit()
    celery.tasks[task_names.RECOMPUTE_TRENDS].apply(kwargs={"org_id": org.id}, throw=True).get()
    with tenancy.tenant_context(session, org.id):
        count = len(session.scalars(select(RadarFinding)).all())
        now, before = session.scalars(select(TrendSnapshot).order_by(TrendSnapshot.week_start.desc()).limit(2))
    assert count and now.level == before.level == 3
    assert {"code": "missing_no_warnings", "params": {"count": count}} in now.missing
    assert all(reason["code"] != "missing_no_warnings" for reason in before.missing)

    login(owner)
    page = client.get(f"/o/{org.slug}/").text
    assert "Für Stufe 4 fehlt noch" in page and f"keine offenen Warnsignale ({count} sind offen)" in page
    assert 'href="#radar"' in page and 'id="radar"' in page


def test_the_radar_adds_two_reads_to_the_recompute(app, session, make_user, make_org, count_queries):
    owner = make_user()
    org = make_org("Zählung GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle_id = _scaled_weeks_ago(session, owner, 70)
        session.add(Rollout(cycle_id=cycle_id, reach=Reach.sites, target_count=3, started_on=date.today()))
        session.commit()
        history = load_history(session, org.default_hourly_rate, org.working_weeks_per_year)
        with count_queries() as counter:
            facts = radar.situation(session, history.cycles, history.measurements, history.hourly_rate, 52)
            radar.recompute(session, facts, date.today())
        # The rollouts with their measurements, the stored findings, and the one new finding's insert.
        assert counter.count == 3, counter.statements
