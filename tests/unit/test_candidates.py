"""The backlog's rules over a real session: cost per year and its formula, ranking with unknowns, propose,
edit, merge, dismiss, reopen and pick (the cycle's chain and focus rule), each in the audit log."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.candidates import service
from engpass.candidates.costs import ranked, yearly_cost
from engpass.candidates.figures import cost_figure
from engpass.candidates.models import Candidate, CandidateStatus, DataAvailable, Effort
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Stage
from tests.support.cycles import scaled_quoting_cycle

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _estimate(id_, hours=None, cost=None, minutes_ago=0):
    return SimpleNamespace(
        id=id_,
        hours_per_week=None if hours is None else Decimal(hours),
        cost_per_week=None if cost is None else Decimal(cost),
        created_at=NOW - timedelta(minutes=minutes_ago),
    )


def test_cost_per_year_is_hours_at_the_rate_plus_the_cost_over_the_working_weeks():
    cost = yearly_cost(_estimate(1, "8", "200"), Decimal("65"), 46)
    assert cost.hours_cost == Decimal("23920.00")  # 8 × 65 × 46
    assert cost.direct_cost == Decimal("9200.00")  # 200 × 46
    assert cost.total == Decimal("33120.00")
    assert yearly_cost(_estimate(2, hours="8"), Decimal("65"), 52).total == Decimal("27040.00")
    assert yearly_cost(_estimate(3, cost="0"), Decimal("65"), 52).total == Decimal("0.00")
    assert yearly_cost(_estimate(4), Decimal("65"), 52) is None


def test_the_formula_names_every_factor(app_context):
    with force_locale("de"):
        both = cost_figure(Decimal("8"), Decimal("200"), yearly_cost(_estimate(1, "8", "200"), Decimal(65), 46), "EUR")
        hours = cost_figure(Decimal("8"), None, yearly_cost(_estimate(1, "8"), Decimal(65), 52), "EUR")
        money = cost_figure(None, Decimal("200"), yearly_cost(_estimate(1, cost="200"), Decimal(65), 46), "EUR")
        unknown = cost_figure(None, None, None, "EUR")
    text = lambda f: f.formula.replace("\xa0", " ")  # noqa: E731
    assert both.value.replace("\xa0", " ") == "33.120 €"
    assert text(both) == "(8 Std./Woche × 65 € + 200 €/Woche) × 46 Arbeitswochen = 33.120 €"
    assert text(hours) == "8 Std./Woche × 65 € × 52 Arbeitswochen = 27.040 €"
    assert text(money) == "200 €/Woche × 46 Arbeitswochen = 9.200 €"
    assert unknown.value is None and "unbekannt" in unknown.formula.lower()


def test_ranking_puts_the_costliest_first_unknowns_last_and_the_newest_first_among_equals():
    rate, weeks = Decimal(65), 52
    items = [
        _estimate(1, minutes_ago=1),  # unknown, newer
        _estimate(2, hours="2", minutes_ago=5),
        _estimate(3, cost="0", minutes_ago=9),  # known: 0 €, ranked before the unknowns
        _estimate(4, hours="10"),
        _estimate(5, minutes_ago=30),  # unknown, older
        _estimate(6, cost="130", minutes_ago=2),  # = 2 h × 65: same cost as 2, newer
    ]
    assert [c.id for c in ranked(items, rate, weeks)] == [4, 6, 2, 3, 1, 5]


@pytest.fixture
def ctx(session, make_user, make_org):
    from engpass.organizations.models import Role

    owner = make_user(name="Sabine Owner")
    member = make_user(name="Max Member")
    other = make_user(name="Olga Other")
    org = make_org("Müller Metallbau GmbH", owner=owner, members={member: Role.member, other: Role.member})
    with tenancy.tenant_context(session, org.id):
        yield SimpleNamespace(session=session, owner=owner, member=member, other=other, org=org)


def _propose(ctx, title, by=None, **data):
    return service.propose(ctx.session, {"title": title, **data}, (by or ctx.member).id)


def _events(session, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_propose_needs_only_a_title_and_keeps_unknowns_unknown(ctx):
    candidate = _propose(ctx, "  Angebote dauern 9 Tage ")
    ctx.session.commit()
    assert candidate.title == "Angebote dauern 9 Tage"
    assert candidate.status == CandidateStatus.open and candidate.category == Category.other
    assert candidate.hours_per_week is None and candidate.cost_per_week is None
    assert candidate.effort == Effort.unknown and candidate.data_available == DataAvailable.unknown
    assert candidate.proposed_by_id == ctx.member.id and candidate.organization_id == ctx.org.id
    (event,) = _events(ctx.session, "candidate.proposed")
    assert event.details == {"title": "Angebote dauern 9 Tage"} and event.actor_id == ctx.member.id
    with pytest.raises(service.CandidateRefused):
        _propose(ctx, "   ")


def test_the_proposer_edits_while_open_owners_and_admins_always_others_never(ctx):
    candidate = _propose(ctx, "Reklamationen", hours_per_week=Decimal(3))
    changes = service.edit(ctx.session, candidate, {"hours_per_week": Decimal(5)}, ctx.member.id, manager=False)
    assert changes == {"hours_per_week": ["3", "5"]}
    with pytest.raises(service.NotYours):
        service.edit(ctx.session, candidate, {"title": "Gekapert"}, ctx.other.id, manager=False)
    service.edit(ctx.session, candidate, {"effort": Effort.small}, ctx.owner.id, manager=True)
    assert candidate.effort == Effort.small and candidate.title == "Reklamationen"
    assert [e.details["changes"] for e in _events(ctx.session, "candidate.updated")] == [
        {"hours_per_week": ["3", "5"]},
        {"effort": ["unknown", "small"]},
    ]
    service.dismiss(ctx.session, candidate, "Kein Hebel", ctx.owner.id)
    assert not service.may_edit(candidate, ctx.member.id, manager=False)
    with pytest.raises(service.CandidateRefused):
        service.edit(ctx.session, candidate, {"title": "Neu"}, ctx.owner.id, manager=True)


def test_merge_keeps_the_kept_numbers_fills_its_unknowns_and_lists_the_merged(ctx):
    kept = _propose(ctx, "Angebote zu langsam", hours_per_week=Decimal(8))
    duplicate = _propose(
        ctx,
        "Angebote dauern ewig",
        by=ctx.other,
        hours_per_week=Decimal(20),
        cost_per_week=Decimal(150),
        data_available=DataAvailable.partly,
        who_feels_it="Vertrieb, 4 Personen",
    )
    older = _propose(ctx, "Angebote!", by=ctx.owner)
    service.merge(ctx.session, older, duplicate, ctx.owner.id)
    filled = service.merge(ctx.session, duplicate, kept, ctx.owner.id)
    ctx.session.commit()
    assert kept.hours_per_week == Decimal(8)  # its own
    assert kept.cost_per_week == Decimal(150) and kept.data_available == DataAvailable.partly
    assert kept.who_feels_it == "Vertrieb, 4 Personen"
    assert "hours_per_week" not in filled
    assert filled["cost_per_week"][0] is None and Decimal(filled["cost_per_week"][1]) == 150
    assert duplicate.status == CandidateStatus.merged and duplicate.merged_into_id == kept.id
    ctx.session.refresh(older)
    assert older.merged_into_id == kept.id  # what was merged into the duplicate follows it
    found = service.backlog(ctx.session, Decimal(65), 52)
    assert [e.candidate.id for e in found.open.rows] == [kept.id]
    assert {(m.candidate.title, m.proposer) for m in found.open.rows[0].merged} == {
        ("Angebote dauern ewig", "Olga Other"),
        ("Angebote!", "Sabine Owner"),
    }
    event = _events(ctx.session, "candidate.merged")[-1]
    assert event.details["into_id"] == kept.id and event.details["title"] == "Angebote dauern ewig"
    with pytest.raises(service.CandidateRefused):
        service.merge(ctx.session, kept, kept, ctx.owner.id)
    with pytest.raises(service.CandidateRefused):
        service.merge(ctx.session, duplicate, kept, ctx.owner.id)


def test_dismiss_needs_a_reason_and_reopen_brings_it_back(ctx):
    candidate = _propose(ctx, "Reporting")
    with pytest.raises(service.CandidateRefused):
        service.dismiss(ctx.session, candidate, "  ", ctx.owner.id)
    service.dismiss(ctx.session, candidate, "Erledigt sich mit dem neuen ERP", ctx.owner.id)
    assert candidate.status == CandidateStatus.dismissed
    assert service.backlog(ctx.session, Decimal(65), 52).dismissed[0].candidate is candidate
    service.reopen(ctx.session, candidate, ctx.owner.id)
    assert candidate.is_open and candidate.dismissed_reason is None
    with pytest.raises(service.CandidateRefused):
        service.reopen(ctx.session, candidate, ctx.owner.id)
    assert [e.action for e in ctx.session.scalars(select(AuditEvent).order_by(AuditEvent.id))][-2:] == [
        "candidate.dismissed",
        "candidate.reopened",
    ]


def _pick(ctx, candidate, confirm=False):
    return service.pick(
        ctx.session,
        candidate,
        actor_id=ctx.owner.id,
        owner_id=ctx.owner.id,
        who_label="Betroffen",
        confirm_second_open=confirm,
    )


def test_pick_makes_a_cycle_with_the_numbers_as_the_draft_status_quo_and_leaves_the_others(ctx):
    picked = _propose(
        ctx,
        "Angebote dauern 9 Tage",
        category=Category.quoting,
        hours_per_week=Decimal(14),
        cost_per_week=Decimal(200),
        who_feels_it="Vertrieb, 4 Personen",
        description="Kunden springen ab.",
    )
    other = _propose(ctx, "Reklamationen")
    cycle = _pick(ctx, picked)
    ctx.session.commit()
    assert cycle.title == "Angebote dauern 9 Tage" and cycle.category == Category.quoting
    assert cycle.why == "Kunden springen ab.\n\nBetroffen: Vertrieb, 4 Personen"
    assert cycle.hours_per_week == Decimal(14) and cycle.direct_cost_per_week == Decimal(200)
    assert cycle.stage == Stage.bottleneck and cycle.previous_cycle_id is None and not cycle.focus_warning
    assert picked.status == CandidateStatus.picked and picked.cycle_id == cycle.id
    assert other.is_open
    actions = [e.action for e in ctx.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-3:] == ["cycle.created", "cycle.baseline_updated", "candidate.picked"]
    with pytest.raises(service.CandidateRefused):
        _pick(ctx, picked)


def test_pick_asks_for_focus_while_another_cycle_is_open(ctx):
    first = _pick(ctx, _propose(ctx, "Erster Engpass"))
    ctx.session.commit()
    second = _propose(ctx, "Zweiter Engpass")
    with pytest.raises(cycles.FocusConfirmationRequired) as refused:
        _pick(ctx, second)
    assert refused.value.open_cycles == [first]
    ctx.session.rollback()
    assert second.is_open
    cycle = _pick(ctx, second, confirm=True)
    assert cycle.focus_warning and second.status == CandidateStatus.picked


def test_pick_continues_the_latest_decided_cycle_until_it_has_a_successor(ctx):
    decided = scaled_quoting_cycle(ctx.session, ctx.owner, title="Angebote schneller")
    assert service.cycle_to_follow(ctx.session) == decided
    follower = _pick(ctx, _propose(ctx, "Leads gehen verloren"))
    ctx.session.commit()
    assert follower.previous_cycle_id == decided.id
    assert service.cycle_to_follow(ctx.session) is None
    # The next pick is a second open cycle, not a second successor of the same decided one.
    parallel = _pick(ctx, _propose(ctx, "Reporting"), confirm=True)
    assert parallel.previous_cycle_id is None and parallel.focus_warning


def test_candidates_of_another_organization_are_not_found(session, make_user, make_org):
    one, two = make_org("Eins GmbH"), make_org("Zwei GmbH")
    user = make_user()
    with tenancy.tenant_context(session, one.id):
        candidate = service.propose(session, {"title": "Geheim"}, user.id)
        session.commit()
        candidate_id = candidate.id
    session.expunge_all()
    with tenancy.tenant_context(session, two.id):
        assert session.get(Candidate, candidate_id) is None
        assert service.backlog(session, Decimal(65), 52).open.rows == []
