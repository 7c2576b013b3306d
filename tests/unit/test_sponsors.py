"""The sponsor, who decides, and templates from decided cycles: domain rules over a real session, no HTTP."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.cycles import service, sponsors
from engpass.cycles.models import Category, Decision, Stage
from engpass.cycles.proven_templates import make_template, reference
from engpass.cycles.rules import StageRuleViolation
from engpass.cycles.templates import suggestions_for
from engpass.organizations.models import Role
from engpass.organizations.permissions import may_decide
from engpass.reminders.decisions import waiting_for
from engpass.reminders.rules import load
from tests.support.cycles import lead_scoring_cycle, scaled_quoting_cycle


@pytest.fixture
def company(session, make_user, make_org):
    owner = make_user(name="Sabine Müller")
    admin, member, viewer = make_user(name="Aylin Kaya"), make_user(name="Jonas Becker"), make_user(name="Frieda")
    org = make_org(
        "Müller Metallbau GmbH", owner=owner, members={admin: Role.admin, member: Role.member, viewer: Role.viewer}
    )
    stranger = make_user(name="Fremd")
    make_org("Andere GmbH", owner=stranger)
    people = {"owner": owner, "admin": admin, "member": member, "viewer": viewer, "stranger": stranger}
    with tenancy.tenant_context(session, org.id):
        yield session, org, people


def _new(session, actor, sponsor_id=None, title="Angebote dauern 9 Tage"):
    return service.create_cycle(
        session,
        title=title,
        category=Category.quoting,
        why="Hebel",
        owner_id=actor.id,
        actor_id=actor.id,
        sponsor_id=sponsor_id,
        confirm_second_open=True,
    )


@pytest.mark.parametrize(
    ("who", "allowed"), [("owner", True), ("admin", True), ("member", False), ("viewer", False), ("stranger", False)]
)
def test_only_owners_and_admins_of_the_organization_may_sponsor(company, who, allowed):
    session, org, people = company
    assert sponsors.may_sponsor(session, org.id, people[who].id) is allowed
    if allowed:
        assert _new(session, people["owner"], people[who].id).sponsor_id == people[who].id
    else:
        with pytest.raises(sponsors.SponsorRefused) as refused:
            _new(session, people["owner"], people[who].id)
        assert [str(p) for p in refused.value.problems] == [str(sponsors.NOT_A_SPONSOR)]


def test_the_default_sponsor_is_whoever_names_it_when_they_may(company):
    session, org, people = company
    assert sponsors.default_sponsor(session, org.id, people["admin"].id) == people["admin"].id
    assert sponsors.default_sponsor(session, org.id, people["member"].id) is None
    assert sponsors.default_sponsor(session, org.id, None) is None


def test_naming_and_changing_the_sponsor_is_audited(company):
    session, org, people = company
    cycle = _new(session, people["owner"], people["owner"].id)
    assert sponsors.set_sponsor(session, cycle, people["admin"].id, people["owner"].id) is True
    assert sponsors.set_sponsor(session, cycle, people["admin"].id, people["owner"].id) is False
    with pytest.raises(sponsors.SponsorRefused):
        sponsors.set_sponsor(session, cycle, people["stranger"].id, people["owner"].id)
    assert cycle.sponsor_id == people["admin"].id
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert events[0].action == "cycle.created" and events[0].details["sponsor_id"] == people["owner"].id
    changed = [e for e in events if e.action == "cycle.sponsor_changed"]
    assert [e.details["changes"] for e in changed] == [{"sponsor_id": [people["owner"].id, people["admin"].id]}]


def test_whom_a_consultant_may_name_is_who_already_backs_a_cycle(company):
    session, org, people = company
    assert sponsors.sponsoring(session, org.id) == []
    _new(session, people["owner"], people["admin"].id)
    assert sponsors.sponsoring(session, org.id) == [(people["admin"].id, "Aylin Kaya")]
    assert sponsors.candidates(session, org.id) == [
        (people["admin"].id, "Aylin Kaya"),
        (people["owner"].id, "Sabine Müller"),
    ]


@pytest.mark.parametrize(
    ("role", "is_sponsor", "decides"),
    [
        (Role.owner, False, True),
        (Role.owner, True, True),
        (Role.admin, True, True),
        (Role.admin, False, False),
        (Role.member, True, False),  # a sponsor demoted to member no longer decides
        (Role.member, False, False),
        (Role.viewer, False, False),
        (None, True, False),
    ],
)
def test_the_sponsor_or_an_owner_decides(role, is_sponsor, decides):
    assert may_decide(role, 7, 7 if is_sponsor else 8) is decides


def test_no_sponsor_leaves_the_decision_to_the_owners():
    assert may_decide(Role.owner, 7, None) and not may_decide(Role.admin, 7, None)


def test_a_decision_without_lessons_is_refused_with_one_message(company):
    session, _org, people = company
    cycle = lead_scoring_cycle(session, people["owner"])
    with pytest.raises(StageRuleViolation) as refused:
        service.decide(
            session, cycle, {"decision": Decision.scale, "decision_reason": "Wirkt", "lessons_worked": "x"}, None
        )
    assert [str(p) for p in refused.value.problems] == [
        "Write down what you learned: what worked, what did not, and what you would do differently."
    ]


def test_a_decided_cycle_becomes_a_template_with_its_measured_numbers(company):
    session, org, people = company
    cycle = scaled_quoting_cycle(session, people["owner"])
    template = make_template(session, cycle, org.default_hourly_rate, org.working_weeks_per_year, people["owner"].id)
    assert (template.source_cycle_id, template.source_title, template.source_decision) == (
        cycle.id,
        "Angebote",
        Decision.scale,
    )
    assert (template.baseline_hours_per_week, template.result_hours_per_week) == (Decimal(14), Decimal(6))
    assert (template.kpi_baseline, template.kpi_result, template.kpi_change_percent) == (
        Decimal(9),
        Decimal(4),
        Decimal("-55.6"),
    )
    # 8 hours × 65 € × 52 weeks (docs/business-case.md).
    assert template.savings_per_year == Decimal("27040.00")
    assert template.lessons == "Vorlage\n\nExport\n\nFrüher messen"
    # In words on the pages (tests/web/test_sponsor_pages.py); here: which cycle, and both changes.
    line = reference(template).replace("\xa0", " ")
    assert "Angebote" in line and "−57 %" in line and "−55,6 % Dauer" in line
    own = [s for s in suggestions_for(session, Category.quoting) if not s.builtin]
    assert [s.reference for s in own] == [reference(template)]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "cycle_template.created")).one()
    assert event.details == {"name": "Angebote", "source_cycle_id": cycle.id}


def test_an_open_cycle_is_no_template(company):
    session, org, people = company
    cycle = lead_scoring_cycle(session, people["owner"])
    with pytest.raises(StageRuleViolation):
        make_template(session, cycle, org.default_hourly_rate, org.working_weeks_per_year, people["owner"].id)


def test_the_decisions_waiting_for_a_sponsor(company):
    session, _org, people = company
    owner, admin = people["owner"], people["admin"]
    decided = scaled_quoting_cycle(session, owner, "Schon entschieden")
    decided.sponsor_id = admin.id
    backed = lead_scoring_cycle(session, owner, "Von Aylin getragen")
    backed.sponsor_id = admin.id
    unbacked = lead_scoring_cycle(session, owner, "Ohne Sponsor")
    unbacked.sponsor_id = None
    unmeasured = _new(session, owner, admin.id, "Noch nicht gemessen")
    session.flush()
    situation = load(session)
    assert unmeasured.stage == Stage.bottleneck and decided.stage == Stage.decided
    assert [d.cycle_title for d in waiting_for(situation, admin.id, Role.admin)] == ["Von Aylin getragen"]
    # The owner answers for cycles without a sponsor, not for Aylin's.
    assert [d.cycle_title for d in waiting_for(situation, owner.id, Role.owner)] == ["Ohne Sponsor"]
    assert waiting_for(situation, people["member"].id, Role.member) == []
    assert all(d.last_measured == date.today() for d in waiting_for(situation, admin.id, Role.admin))
