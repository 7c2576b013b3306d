"""``engpass demo --scale``: many organizations with histories that obey the method, loaded once.

Also the benchmark's trivial route, ``/livez``, which must answer without a database.
"""

from datetime import date

import pytest
from sqlalchemy import func, select

from engpass import create_app, tenancy
from engpass.accounts.models import User
from engpass.cli import cli
from engpass.cycles.business_case import status_quo_cost
from engpass.cycles.indirect_costs import weekly
from engpass.cycles.models import Cycle, Measurement, Stage, StageChange
from engpass.cycles.rules import problems_to_enter
from engpass.demo.scale_roster import NAME_PREFIX, member_email, member_role, org_name, org_slug, owner_email
from engpass.organizations.models import Membership, Organization, Role
from engpass.trends.models import TrendSnapshot

CYCLES, MEASUREMENTS = 5, 4


@pytest.fixture
def runner(app, monkeypatch):
    # FlaskGroup marks the process as run from the CLI; keep that out of the other tests.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    return app.test_cli_runner()


def _scale(runner):
    args = ["demo", "--scale", "3", "--cycles", str(CYCLES), "--measurements", str(MEASUREMENTS)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.output


def _bench_orgs(session):
    return session.scalars(
        select(Organization).where(Organization.name.startswith(NAME_PREFIX)).order_by(Organization.name)
    ).all()


def _counts(session):
    orgs = _bench_orgs(session)
    counts = {}
    for org in orgs:
        with tenancy.tenant_context(session, org.id):
            counts[org.slug] = (
                session.scalar(select(func.count(Cycle.id))),
                session.scalar(select(func.count(Measurement.id))),
                session.scalar(select(func.count(StageChange.id))),
            )
    return counts


def test_scale_creates_organizations_with_histories_that_obey_the_stage_rules(runner, session):
    output = _scale(runner)
    assert "3 organizations created" in output

    orgs = _bench_orgs(session)
    assert [o.name for o in orgs] == [org_name(n) for n in (1, 2, 3)]
    assert [o.slug for o in orgs] == [org_slug(n) for n in (1, 2, 3)]
    today = date.today()
    for number, org in enumerate(orgs, start=1):
        owner = session.scalars(select(User).where(User.email == owner_email(number))).one()
        assert owner.check_password("engpass-demo")
        membership = session.scalars(
            select(Membership).where(Membership.organization_id == org.id, Membership.user_id == owner.id)
        ).one()
        assert membership.role == Role.owner
        with tenancy.tenant_context(session, org.id):
            cycles = session.scalars(select(Cycle).order_by(Cycle.id)).all()
            assert len(cycles) == CYCLES
            assert cycles[0].stage == Stage.decided, "most of a chain is decided"
            assert any(c.stage != Stage.decided for c in cycles), "the chain ends with open work"
            # One chain: every cycle points to the one before it.
            assert [c.previous_cycle_id for c in cycles] == [None] + [c.id for c in cycles[:-1]]
            for cycle in cycles:
                count = session.scalar(select(func.count(Measurement.id)).where(Measurement.cycle_id == cycle.id))
                assert problems_to_enter(cycle, cycle.stage, count) == [], (org.name, cycle.id, cycle.stage)
                measured = cycle.stage in (Stage.result, Stage.decided)
                assert count == (MEASUREMENTS if measured else 0), (cycle.stage, count)
                entered = [getattr(cycle, f"{s.value}_at") for s in Stage if getattr(cycle, f"{s.value}_at")]
                assert entered == sorted(entered) and entered[-1].date() < today
                stages = session.scalars(
                    select(StageChange.to_stage).where(StageChange.cycle_id == cycle.id).order_by(StageChange.id)
                ).all()
                assert stages[-1] == cycle.stage
                # The weekly indirect cost is its items' sum, as the service keeps it.
                cost = status_quo_cost(cycle, org.default_hourly_rate, org.working_weeks_per_year)
                indirect = cost.indirect_cost if cost is not None else None
                expected = None if indirect is None else weekly(indirect, org.working_weeks_per_year)
                assert cycle.indirect_cost_per_week == expected, (org.name, cycle.id)
            for earlier, later in zip(cycles, cycles[1:], strict=False):
                if earlier.stage == Stage.decided:
                    assert later.bottleneck_at > earlier.decided_at, "the next bottleneck comes after the decision"
            days = session.scalars(select(Measurement.measured_on)).all()
            assert max(days) < today
            decided = next(c for c in cycles if c.stage == Stage.decided)
            first = min(m.measured_on for m in decided.measurements)
            assert first <= decided.decided_at.date(), "measured before deciding"
            # The workers compute trends, not the loader.
            assert session.scalar(select(func.count(TrendSnapshot.id))) == 0


def test_scale_again_adds_nothing(runner, session):
    _scale(runner)
    before = _counts(session)
    users = session.scalar(select(func.count(User.id)))
    output = _scale(runner)
    assert "0 organizations created, 3 already there" in output
    assert _counts(session) == before
    assert session.scalar(select(func.count(User.id))) == users
    assert all(value == (CYCLES, value[1], value[2]) and value[1] > 0 for value in before.values())


def test_scale_with_members_gives_each_organization_its_people(runner, session):
    args = ["demo", "--scale", "2", "--cycles", str(CYCLES), "--measurements", "2", "--members", "5"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    for number, org in enumerate(_bench_orgs(session), start=1):
        roles = dict(
            session.execute(
                select(User.email, Membership.role)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.organization_id == org.id)
            ).all()
        )
        expected = {owner_email(number): Role.owner} | {member_email(number, m): member_role(m) for m in range(1, 6)}
        assert roles == expected
        with tenancy.tenant_context(session, org.id):
            owners = set(session.scalars(select(Cycle.owner_id)))
        editors = session.scalars(
            select(User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == org.id, Membership.role != Role.viewer)
        ).all()
        # The five cycles go in turn to the five who may edit (owner, admin, three members), none to the viewer.
        assert owners == set(editors)


def test_livez_answers_without_a_database(settings, tmp_path):
    # A database URL that cannot be reached: liveness must not depend on it.
    settings.database_url = f"sqlite:///{tmp_path / 'missing' / 'nowhere.sqlite3'}"
    response = create_app(settings).test_client().get("/livez")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.text == "ok"
