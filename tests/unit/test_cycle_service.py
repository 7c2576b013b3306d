"""Cycle services over a real session: stage moves, audit, focus, measurements, chain."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.cycles import service
from engpass.cycles.models import Category, Decision, KpiDirection, SolutionType, Stage, StageChange
from engpass.cycles.rules import StageRuleViolation
from engpass.db import utcnow
from engpass.trends import service as trends
from engpass.trends.models import TrendState

BASELINE = {
    "hours_per_week": Decimal("14"),
    "kpi_name": "Angebotsdauer",
    "kpi_unit": "Tage",
    "kpi_direction": KpiDirection.lower,
    "kpi_baseline": Decimal("9"),
    "kpi_target": Decimal("4"),
}
SOLUTION = {
    "solution_what": "Angebotsvorlage + Kalkulationsblatt",
    "solution_type": SolutionType.email_automation,
    "effort_days": Decimal("6"),
}


@pytest.fixture
def ctx(session, make_user, make_org):
    owner = make_user(name="Sabine")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        yield session, owner, org


def _new(session, owner, **kw):
    return service.create_cycle(
        session,
        title=kw.get("title", "Angebote dauern 9 Tage"),
        category=Category.quoting,
        why="Größter Hebel",
        owner_id=owner.id,
        actor_id=owner.id,
        confirm_second_open=kw.get("confirm", False),
    )


def _actions(session):
    return session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def test_sabines_cycle_from_bottleneck_to_decision(ctx):
    session, owner, org = ctx
    cycle = _new(session, owner)
    session.commit()
    assert cycle.stage == Stage.bottleneck and cycle.organization_id == org.id
    with pytest.raises(StageRuleViolation) as refused:
        service.save_solution(session, cycle, SOLUTION, owner.id)
    assert len(refused.value.problems) == 3
    session.rollback()

    service.save_baseline(session, cycle, BASELINE, [service.StepInput("Anfrage prüfen", "Vertrieb", 30)], owner.id)
    assert cycle.stage == Stage.baseline
    service.save_solution(session, cycle, SOLUTION, owner.id)
    assert cycle.stage == Stage.solution
    service.start_prototype(session, cycle, {"prototype_start": date(2026, 11, 2)}, owner.id)
    assert cycle.stage == Stage.prototype
    assert cycle.prototype_target == date(2026, 11, 30)
    session.commit()
    with pytest.raises(StageRuleViolation):
        service.decide(
            session,
            cycle,
            {
                "decision": Decision.scale,
                "decision_reason": "Wirkt",
                "lessons_worked": "Vorlage",
                "lessons_failed": "Export",
                "lessons_differently": "Früher messen",
            },
            owner.id,
        )
    session.rollback()
    assert cycle.stage == Stage.prototype and cycle.decision is None
    service.add_measurement(
        session,
        cycle,
        {"measured_on": date(2026, 11, 20), "kpi_value": Decimal("4"), "hours_per_week": Decimal("6")},
        owner.id,
    )
    assert cycle.stage == Stage.result
    service.decide(
        session,
        cycle,
        {
            "decision": Decision.scale,
            "decision_reason": "Wirkt",
            "lessons_worked": "Vorlage",
            "lessons_failed": "Export",
            "lessons_differently": "Früher messen",
        },
        owner.id,
    )
    session.commit()
    assert cycle.stage == Stage.decided and cycle.decided_at is not None
    moves = session.scalars(
        select(StageChange.to_stage).where(StageChange.cycle_id == cycle.id).order_by(StageChange.id)
    ).all()
    assert moves == list(Stage)
    assert "cycle.created" in _actions(session) and "measurement.added" in _actions(session)


def test_going_back_is_allowed_recorded_and_clears_later_timestamps(ctx):
    session, owner, _ = ctx
    cycle = _new(session, owner)
    service.save_baseline(session, cycle, BASELINE, None, owner.id)
    service.save_solution(session, cycle, SOLUTION, owner.id)
    assert cycle.solution_at is not None
    service.change_stage(session, cycle, Stage.baseline, owner.id)
    assert cycle.stage == Stage.baseline and cycle.solution_at is None
    back = session.scalars(select(StageChange).where(StageChange.backwards.is_(True))).one()
    assert (back.from_stage, back.to_stage) == (Stage.solution, Stage.baseline)
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "cycle.stage_changed").order_by(AuditEvent.id.desc())
    ).first()
    assert event.details == {"changes": {"stage": ["solution", "baseline"]}, "backwards": True}


def test_edits_are_audited_with_old_and_new_values(ctx):
    session, owner, _ = ctx
    cycle = _new(session, owner)
    service.save_baseline(session, cycle, BASELINE, None, owner.id)
    service.save_baseline(session, cycle, {**BASELINE, "hours_per_week": Decimal("12")}, None, owner.id)
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "cycle.baseline_updated").order_by(AuditEvent.id.desc())
    ).first()
    assert event.details["changes"] == {"hours_per_week": ["14", "12"]}


def test_second_open_cycle_needs_confirmation_and_carries_a_focus_warning(ctx):
    session, owner, _ = ctx
    first = _new(session, owner)
    with pytest.raises(service.FocusConfirmationRequired) as asked:
        _new(session, owner, title="Zu wenige Leads")
    assert asked.value.open_cycles == [first]
    second = _new(session, owner, title="Zu wenige Leads", confirm=True)
    assert second.focus_warning and not first.focus_warning


def test_next_bottleneck_only_after_a_decision_and_linked(ctx):
    session, owner, _ = ctx
    first = _new(session, owner)
    with pytest.raises(StageRuleViolation):
        service.start_next_cycle(
            session, first, title="Leads", category=Category.leads, why="", owner_id=None, actor_id=owner.id
        )
    service.save_baseline(session, first, BASELINE, None, owner.id)
    service.save_solution(session, first, SOLUTION, owner.id)
    service.start_prototype(session, first, {"prototype_start": date(2026, 11, 2)}, owner.id)
    service.add_measurement(session, first, {"measured_on": date(2026, 11, 20), "kpi_value": Decimal("4")}, owner.id)
    service.decide(
        session,
        first,
        {
            "decision": Decision.scale,
            "decision_reason": "Wirkt",
            "lessons_worked": "Vorlage",
            "lessons_failed": "Export",
            "lessons_differently": "Früher messen",
        },
        owner.id,
    )
    second = service.start_next_cycle(
        session, first, title="Leads", category=Category.leads, why="", owner_id=owner.id, actor_id=owner.id
    )
    assert second.previous_cycle_id == first.id and not second.focus_warning
    third = _new(session, owner, title="Später", confirm=True)
    assert [c.id for c in service.chain_of(session, second)] == [first.id, second.id]
    assert [c.id for c in service.chain_of(session, third)] == [third.id]


def test_measurements_before_the_prototype_are_refused(ctx):
    session, owner, _ = ctx
    cycle = _new(session, owner)
    with pytest.raises(StageRuleViolation):
        service.add_measurement(session, cycle, {"measured_on": date(2026, 11, 1), "kpi_value": Decimal(1)}, owner.id)


def test_a_decided_cycle_keeps_its_last_measurement(ctx):
    session, owner, _ = ctx
    cycle = _new(session, owner)
    service.save_baseline(session, cycle, BASELINE, None, owner.id)
    service.save_solution(session, cycle, SOLUTION, owner.id)
    service.start_prototype(session, cycle, {"prototype_start": date(2026, 11, 2)}, owner.id)
    m = service.add_measurement(
        session, cycle, {"measured_on": date(2026, 11, 20), "kpi_value": Decimal("4")}, owner.id
    )
    service.decide(
        session,
        cycle,
        {
            "decision": Decision.drop,
            "decision_reason": "Kein Effekt",
            "lessons_worked": "Vorlage",
            "lessons_failed": "Export",
            "lessons_differently": "Früher messen",
        },
        owner.id,
    )
    with pytest.raises(StageRuleViolation):
        service.delete_measurement(session, cycle, m, owner.id)
    service.update_measurement(session, cycle, m, {"kpi_value": Decimal("5")}, owner.id)
    assert m.kpi_value == Decimal("5")


def test_process_steps_are_ordered_and_replaced(ctx):
    session, owner, _ = ctx
    cycle = _new(session, owner)
    steps = [service.StepInput("Anfrage prüfen", "Vertrieb", 30), service.StepInput("Kalkulieren", "Technik", 240)]
    service.save_baseline(session, cycle, BASELINE, steps, owner.id)
    service.save_baseline(session, cycle, BASELINE, list(reversed(steps)), owner.id)
    session.commit()
    session.expire_all()
    assert [(s.position, s.name) for s in cycle.steps] == [(1, "Kalkulieren"), (2, "Anfrage prüfen")]


def test_cycles_of_other_organizations_are_invisible(session, make_user, make_org):
    owner = make_user()
    a, b = make_org("A GmbH", owner=owner), make_org("B GmbH", owner=owner)
    with tenancy.tenant_context(session, a.id):
        cycle = _new(session, owner)
        session.commit()
    session.expunge_all()
    with tenancy.tenant_context(session, b.id):
        assert service.open_cycles(session) == []
        from engpass.cycles.models import Cycle

        assert session.get(Cycle, cycle.id) is None


def test_each_change_tells_the_trends_the_earliest_day_it_can_affect(ctx):
    """Each step starts from snapshots that are up to date, so what is pending is that change's day."""
    session, owner, _ = ctx
    today = utcnow().date()

    def pending():
        return session.scalars(select(TrendState).execution_options(populate_existing=True)).one().dirty_since

    cycle = _new(session, owner)
    assert pending() == today
    start = today - timedelta(days=60)
    cycle.bottleneck_at = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    trends.recompute(session)
    # Undated fields such as the baseline count for the cycle's whole life.
    service.save_baseline(session, cycle, BASELINE, None, owner.id)
    assert pending() == start
    trends.recompute(session)
    service.save_solution(session, cycle, SOLUTION, owner.id)
    assert pending() == start
    trends.recompute(session)
    # A prototype start before the bottleneck was named reaches further back than any stage timestamp.
    early = start - timedelta(days=10)
    service.start_prototype(session, cycle, {"prototype_start": early}, owner.id)
    assert pending() == early
    trends.recompute(session)
    # A result from the future is refused; the first measurement moves the cycle to the result stage now.
    with pytest.raises(service.MeasuredInFuture):
        service.add_measurement(
            session, cycle, {"measured_on": today + timedelta(days=2), "kpi_value": Decimal(5)}, owner.id
        )
    first = service.add_measurement(session, cycle, {"measured_on": today, "kpi_value": Decimal(5)}, owner.id)
    assert pending() == today
    trends.recompute(session)
    nine_days_ago = today - timedelta(days=9)
    m = service.add_measurement(session, cycle, {"measured_on": nine_days_ago, "kpi_value": Decimal(4)}, owner.id)
    assert pending() == nine_days_ago
    trends.recompute(session)
    service.update_measurement(session, cycle, m, {"measured_on": today}, owner.id)
    assert pending() == nine_days_ago
    trends.recompute(session)
    service.update_measurement(session, cycle, first, {"measured_on": start}, owner.id)
    assert pending() == start
    trends.recompute(session)
    service.delete_measurement(session, cycle, m, owner.id)
    assert pending() == today
    trends.recompute(session)
    service.change_stage(session, cycle, Stage.baseline, owner.id)
    assert pending() == early
    trends.recompute(session)
    service.delete_cycle(session, cycle, owner.id)
    assert pending() == early
