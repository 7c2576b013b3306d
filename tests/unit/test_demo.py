"""Demo data: realistic chains that obey the method's own rules."""

from datetime import date

from sqlalchemy import func, select

from engpass import tenancy
from engpass.cycles import service
from engpass.cycles.business_case import compute, status_quo_cost
from engpass.cycles.forecast import compare
from engpass.cycles.indirect_costs import weekly
from engpass.cycles.models import Cycle, IndirectKind, Measurement, SolutionType, Stage
from engpass.cycles.revenue import contribution
from engpass.cycles.rules import problems_to_enter
from engpass.demo.data import DEMO_PASSWORD, load_demo
from engpass.demo.radar import LOW_ADOPTION
from engpass.demo.sso import DEMO_DOMAIN, DEMO_SSO_ORG, connect_provider
from engpass.demo.webhooks import DEMO_WEBHOOK_ORG
from engpass.organizations.models import Organization, OrgKind
from engpass.radar import service as radar
from engpass.radar.models import Pattern
from engpass.rollouts import service as rollouts
from engpass.rollouts.figures import scale_case
from engpass.rollouts.models import Rollout
from engpass.sso import config as sso_config
from engpass.sso.models import SsoDomain
from engpass.webhooks.endpoints import secrets_in_use
from engpass.webhooks.models import WebhookDelivery, WebhookEndpoint


def test_demo_companies_have_chains_in_several_stages_that_follow_the_rules(session):
    load_demo(session)
    load_demo(session)  # idempotent: the second run adds no cycles
    companies = session.scalars(select(Organization).where(Organization.kind == OrgKind.company)).all()
    assert len(companies) >= 4
    seen_stages = set()
    for org in companies:
        with tenancy.tenant_context(session, org.id):
            cycles = session.scalars(select(Cycle).order_by(Cycle.id)).all()
            assert 2 <= len(cycles) <= 6, org.name
            assert any(c.stage == Stage.decided for c in cycles), org.name
            chain = service.chain_of(session, cycles[-1])
            assert [c.id for c in chain] == [c.id for c in cycles], "one linked chain per company"
            for cycle in cycles:
                seen_stages.add(cycle.stage)
                count = session.scalar(select(func.count(Measurement.id)).where(Measurement.cycle_id == cycle.id))
                assert problems_to_enter(cycle, cycle.stage, count) == [], (org.name, cycle.title)
                latest = session.scalar(
                    select(func.max(Measurement.measured_on)).where(Measurement.cycle_id == cycle.id)
                )
                assert latest is None or latest <= date.today()
            decided = next(c for c in cycles if c.stage == Stage.decided)
            case = compute(decided, list(decided.measurements), org.default_hourly_rate, org.working_weeks_per_year)
            assert case.measured and case.kpi_change_percent is not None
            # Its indirect costs are items of every kind but "other", one of them a guess, the weekly figure
            # derived from them.
            cost = status_quo_cost(decided, org.default_hourly_rate, org.working_weeks_per_year)
            assert {c.item.kind for c in cost.indirect_items} == set(IndirectKind) - {IndirectKind.other}
            assert [c.item.label for c in cost.indirect_items if c.guessed] == ["Vertragsstrafe bei Verzug"]
            assert 0 < cost.guessed_share < 100
            assert decided.indirect_cost_per_week == weekly(cost.indirect_cost, org.working_weeks_per_year)
    assert len(seen_stages) >= 5, seen_stages


def test_demo_cycles_with_results_have_forecasts_some_hit_some_miss_and_one_wins_orders(session):
    load_demo(session)
    shares, contributions = [], []
    for org in session.scalars(select(Organization).where(Organization.kind == OrgKind.company)):
        rate, weeks = org.default_hourly_rate, org.working_weeks_per_year
        with tenancy.tenant_context(session, org.id):
            for cycle in session.scalars(select(Cycle)):
                measurements = list(cycle.measurements)
                if not measurements:
                    continue
                case = compute(cycle, measurements, rate, weeks)
                forecast = compare(cycle, measurements, case, rate, weeks)
                assert forecast.stated, (org.name, cycle.title)
                shares.append(forecast.achieved_percent)
                if (added := contribution(cycle, case.kpi_current, weeks)) is not None:
                    contributions.append((cycle.title, cycle.solution_type, added.per_year))
    assert any(share is not None and share >= 90 for share in shares), shares  # hit
    assert any(share is not None and share < 70 for share in shares), shares  # missed
    ((title, solution_type, per_year),) = contributions
    assert solution_type == SolutionType.lead_scoring and per_year > 0, title


def test_the_demo_consultant_reaches_two_demo_companies_once(session):
    from engpass.accounts.service import find_user
    from engpass.consulting.models import ClientAccess
    from engpass.consulting.service import clients_of, requests_to_client

    load_demo(session)
    load_demo(session)  # idempotent: no second access, no second request
    petra = find_user(session, "consultant@demo.example")
    clients = clients_of(session, petra.id)
    assert [org.name for org, _ in clients] == ["Müller Metallbau GmbH", "Schneider Logistik KG"]
    assert session.scalar(select(func.count(ClientAccess.id))) == 2
    hofmann = session.scalars(select(Organization).where(Organization.name.like("Kanzlei%"))).one()
    assert len(requests_to_client(session, hofmann.id)) == 1


def test_the_demo_member_owns_a_cycle_with_a_measurement_due(session, client, login):
    from engpass.accounts.service import find_user
    from engpass.reminders.rules import Rule, open_reminders

    load_demo(session)
    load_demo(session)  # idempotent: still one cycle of his, still due
    session.commit()
    jonas = find_user(session, "jonas@demo.example")
    org = session.scalars(select(Organization).where(Organization.name == "Müller Metallbau GmbH")).one()
    with tenancy.tenant_context(session, org.id):
        (his,) = session.scalars(select(Cycle).where(Cycle.owner_id == jonas.id)).all()
        assert his.stage == Stage.result
        due = open_reminders(session, date.today(), owner_id=jonas.id)
    assert [(reminder.rule, reminder.cycle_id) for reminder in due] == [(Rule.missing_measurement, his.id)]

    login(jonas, DEMO_PASSWORD)
    todo = client.get(f"/o/{org.slug}/todo").text
    assert his.title in todo
    assert f"/o/{org.slug}/cycles/{his.id}/measurements/new" in todo
    assert his.title in client.get("/todo").text


def test_every_demo_company_has_a_backlog_with_a_picked_a_merged_and_an_unknown_candidate(session):
    from engpass.candidates.models import Candidate, CandidateStatus

    load_demo(session)
    load_demo(session)  # idempotent: the second run adds no candidates
    companies = session.scalars(select(Organization).where(Organization.kind == OrgKind.company)).all()
    for org in companies:
        with tenancy.tenant_context(session, org.id):
            backlog = session.scalars(select(Candidate)).all()
            assert 4 <= len(backlog) <= 6, org.name
            (picked,) = [c for c in backlog if c.status == CandidateStatus.picked]
            cycle = session.get(Cycle, picked.cycle_id)
            assert cycle is not None and cycle.title == picked.title
            merged = [c for c in backlog if c.status == CandidateStatus.merged]
            assert merged and all(session.get(Candidate, c.merged_into_id).is_open for c in merged)
            assert any(c.is_open and c.hours_per_week is None and c.cost_per_week is None for c in backlog)
            assert all(c.proposed_by_id is not None for c in backlog)


def test_each_pattern_of_the_radar_shows_in_a_demo_company(session):
    load_demo(session)
    load_demo(session)  # the low adoption's rollout is written once
    patterns: dict[Pattern, set[str]] = {}
    for org in session.scalars(select(Organization).where(Organization.kind == OrgKind.company)):
        with tenancy.tenant_context(session, org.id):
            for finding in radar.current(session):
                patterns.setdefault(finding.pattern, set()).add(org.name)
            if org.name == LOW_ADOPTION[0]:
                assert session.scalar(select(func.count(Rollout.id))) == 1
    assert set(patterns) == set(Pattern), patterns
    assert LOW_ADOPTION[0] in patterns[Pattern.tool_first]


def test_the_demo_has_a_single_sign_on_half_set_up(session):
    load_demo(session)
    connect_provider(session, "demo-secret")
    connect_provider(session, "demo-secret")  # idempotent: one provider, one domain
    org = session.scalars(select(Organization).where(Organization.name == DEMO_SSO_ORG)).one()
    with tenancy.tenant_context(session, org.id):
        config = sso_config.config_of(session)
        assert sso_config.client_secret(config, "demo-secret") == "demo-client-secret"
    domains = session.scalars(select(SsoDomain).where(SsoDomain.organization_id == org.id)).all()
    assert [(d.domain, d.verified_at) for d in domains] == [(DEMO_DOMAIN, None)]


def test_the_demo_company_has_a_paused_webhook_and_slack_channel_with_a_delivery_log(app_context, session, settings):
    load_demo(session)
    load_demo(session)
    org = session.scalars(select(Organization).where(Organization.name == DEMO_WEBHOOK_ORG)).one()
    with tenancy.tenant_context(session, org.id):
        endpoint, slack = session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
        assert endpoint.enabled is False and slack.enabled is False
        assert (endpoint.kind.value, slack.kind.value) == ("webhook", "slack")
        assert len(secrets_in_use(endpoint, settings.secret_key)) == 1
        statuses = sorted((d.endpoint_id == slack.id, d.status.value) for d in session.scalars(select(WebhookDelivery)))
        assert statuses == [(False, "delivered"), (False, "failed"), (True, "failed")]


def test_one_demo_rollout_held_its_effect_and_another_is_used_by_under_half_its_target(session):
    load_demo(session)
    found = {}
    for name in ("Müller Metallbau GmbH", "Krause Outdoor Online-Shop"):
        org = session.scalars(select(Organization).where(Organization.name == name)).one()
        with tenancy.tenant_context(session, org.id):
            cycle = next(
                c for c in session.scalars(select(Cycle)) if rollouts.is_scaled(c) and rollouts.rollout_of(session, c)
            )
            rollout = rollouts.rollout_of(session, cycle)
            case = compute(cycle, list(cycle.measurements), org.default_hourly_rate, org.working_weeks_per_year)
            found[name] = (rollout, scale_case(cycle, rollout, case, org.default_hourly_rate, 52, date.today()))
    held_rollout, held = found["Müller Metallbau GmbH"]
    assert held.sustained is True and held.adoption_percent == 100
    low_rollout, low = found["Krause Outdoor Online-Shop"]
    assert (date.today() - low_rollout.started_on).days >= 30 and low.adoption_percent < 50
