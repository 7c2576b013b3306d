"""The reminder rules: each at its threshold and a day either side, their periods, and one organization's list.

A rule's deadline day is still in time: the reminder opens on the day after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from engpass import tenancy
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Cycle, Decision, KpiDirection, Measurement, SolutionType, Stage
from engpass.i18n import today_in
from engpass.maturity.model import NEXT_BOTTLENECK_DAYS
from engpass.organizations.models import Role
from engpass.reminders import rules
from engpass.reminders.rules import (
    BASELINE_DUE_DAYS,
    MEASUREMENT_DUE_DAYS,
    NEXT_BOTTLENECK_DUE_DAYS,
    Rule,
    addressed_to,
    open_reminders,
)
from tests.support.cycles import named_cycle, save_a_baseline

TODAY = date(2026, 11, 25)
BERLIN = ZoneInfo("Europe/Berlin")


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


def _cycle(**overrides) -> Cycle:
    data = dict(
        id=7,
        title="Angebote dauern 9 Tage",
        category=Category.quoting,
        stage=Stage.bottleneck,
        owner_id=1,
        bottleneck_at=_at(TODAY - timedelta(days=2)),
    )
    data.update(overrides)
    return Cycle(**data)


def _quantified(**overrides) -> Cycle:
    data = dict(
        stage=Stage.baseline,
        hours_per_week=Decimal(14),
        kpi_name="Angebotsdauer",
        kpi_unit="Tage",
        kpi_direction=KpiDirection.lower,
        kpi_baseline=Decimal(9),
    )
    data.update(overrides)
    return _cycle(**data)


# --- each rule at its threshold -------------------------------------------------------------------

AROUND = [(-1, False), (0, False), (1, True)]  # days past the threshold, due?


@pytest.mark.parametrize(("past", "due"), AROUND)
def test_missing_baseline_opens_the_day_after_its_week(past, due):
    named = TODAY - timedelta(days=BASELINE_DUE_DAYS + past)
    result = rules.missing_baseline(_cycle(bottleneck_at=_at(named)), TODAY, zone=BERLIN)
    assert (result is not None) is due
    if due:
        assert (result.reference, result.since) == (named, TODAY)


@pytest.mark.parametrize("stage", [Stage.bottleneck, Stage.baseline])
def test_missing_baseline_means_the_methods_quantified_status_quo(stage):
    named = _at(TODAY - timedelta(days=30))
    assert rules.missing_baseline(_quantified(stage=stage, bottleneck_at=named), TODAY, zone=BERLIN) is None
    # Hours and a KPI without its baseline value are not a quantified status quo yet.
    assert rules.missing_baseline(_quantified(stage=stage, bottleneck_at=named, kpi_baseline=None), TODAY, zone=BERLIN)


@pytest.mark.parametrize("stage", [Stage.solution, Stage.prototype, Stage.result, Stage.decided])
def test_missing_baseline_is_over_once_the_cycle_passed_the_gate(stage):
    assert (
        rules.missing_baseline(_cycle(stage=stage, bottleneck_at=_at(TODAY - timedelta(days=60))), TODAY, zone=BERLIN)
        is None
    )


@pytest.mark.parametrize(("past", "due"), AROUND)
def test_overdue_prototype_opens_the_day_after_its_target_date(past, due):
    target = TODAY - timedelta(days=past)
    cycle = _cycle(stage=Stage.prototype, prototype_start=target - timedelta(weeks=4), prototype_target=target)
    result = rules.overdue_prototype(cycle, TODAY)
    assert (result is not None) is due
    if due:
        assert (result.reference, result.since) == (target, TODAY)


@pytest.mark.parametrize("stage", [Stage.result, Stage.decided])
def test_a_measured_or_decided_prototype_is_not_overdue(stage):
    long_ago = TODAY - timedelta(days=90)
    cycle = _cycle(stage=stage, prototype_start=long_ago, prototype_target=long_ago + timedelta(weeks=4))
    assert rules.overdue_prototype(cycle, TODAY) is None


@pytest.mark.parametrize(("past", "due"), AROUND)
def test_missing_measurement_opens_after_two_weeks_without_one(past, due):
    measured = TODAY - timedelta(days=MEASUREMENT_DUE_DAYS + past)
    cycle = _cycle(stage=Stage.result, result_at=_at(measured - timedelta(days=30)))
    result = rules.missing_measurement(cycle, measured, TODAY, zone=BERLIN)
    assert (result is not None) is due
    if due:
        assert (result.reference, result.since) == (measured, TODAY)


def test_missing_measurement_counts_from_entering_the_result_stage_when_that_is_later():
    entered = TODAY - timedelta(days=MEASUREMENT_DUE_DAYS)
    cycle = _cycle(stage=Stage.result, result_at=_at(entered))
    # The one measurement was entered with an older date: the cycle only just got here.
    assert rules.missing_measurement(cycle, TODAY - timedelta(days=40), TODAY, zone=BERLIN) is None
    assert rules.missing_measurement(cycle, None, TODAY, zone=BERLIN) is None
    result = rules.missing_measurement(cycle, None, TODAY + timedelta(days=1), zone=BERLIN)
    assert result is not None and result.reference == entered


@pytest.mark.parametrize("stage", [Stage.prototype, Stage.decided])
def test_missing_measurement_only_in_the_result_stage(stage):
    # A prototype is still being built (its own deadline is the target date); a decided cycle is done.
    long_ago = TODAY - timedelta(days=60)
    cycle = _cycle(stage=stage, prototype_start=long_ago, result_at=_at(long_ago), decided_at=_at(long_ago))
    assert rules.missing_measurement(cycle, long_ago, TODAY, zone=BERLIN) is None


@pytest.mark.parametrize(("past", "due"), AROUND)
def test_no_next_bottleneck_opens_two_weeks_after_the_decision(past, due):
    decided = TODAY - timedelta(days=NEXT_BOTTLENECK_DUE_DAYS + past)
    cycle = _cycle(stage=Stage.decided, decision=Decision.scale, decided_at=_at(decided))
    result = rules.no_next_bottleneck(cycle, False, TODAY, zone=BERLIN)
    assert (result is not None) is due
    if due:
        assert (result.reference, result.since) == (decided, TODAY)


@pytest.mark.parametrize("decision", list(Decision))
def test_no_next_bottleneck_after_every_decision_but_not_while_a_cycle_is_open(decision):
    cycle = _cycle(stage=Stage.decided, decision=decision, decided_at=_at(TODAY - timedelta(days=40)))
    assert rules.no_next_bottleneck(cycle, False, TODAY, zone=BERLIN) is not None
    assert rules.no_next_bottleneck(cycle, True, TODAY, zone=BERLIN) is None


def test_next_bottleneck_window_is_the_maturitys_rhythm():
    assert NEXT_BOTTLENECK_DUE_DAYS == NEXT_BOTTLENECK_DAYS


def test_no_owner_applies_to_open_cycles_at_once():
    named = TODAY - timedelta(days=1)
    result = rules.no_owner(_cycle(owner_id=None, bottleneck_at=_at(named)), owner_is_member=False, zone=BERLIN)
    assert result is not None and result.since == named
    assert rules.no_owner(_cycle(), owner_is_member=True, zone=BERLIN) is None
    decided = _cycle(owner_id=None, stage=Stage.decided, decision=Decision.drop, decided_at=_at(named))
    assert rules.no_owner(decided, owner_is_member=False, zone=BERLIN) is None


# --- periods ----------------------------------------------------------------------------------------


def test_missing_measurement_periods_are_fortnights_since_the_last_measurement():
    measured = TODAY - timedelta(days=60)
    cycle = _cycle(stage=Stage.result, result_at=_at(measured - timedelta(days=10)))

    def period(days_after: int) -> str:
        due = rules.missing_measurement(cycle, measured, measured + timedelta(days=days_after), zone=BERLIN)
        assert due is not None
        return due.period

    first, second = period(15), period(29)
    assert {period(day) for day in range(15, 29)} == {first}
    assert {period(day) for day in range(29, 43)} == {second}
    assert len({first, second, period(43)}) == 3
    # A new measurement starts the count again, with periods of its own.
    later = rules.missing_measurement(cycle, measured + timedelta(days=20), measured + timedelta(days=40), zone=BERLIN)
    assert later is not None and later.period not in {first, second}


def test_once_per_deadline_rules_keep_their_period_until_the_deadline_changes():
    def prototype(target: date) -> Cycle:
        return _cycle(stage=Stage.prototype, prototype_start=TODAY - timedelta(days=40), prototype_target=target)

    target = TODAY - timedelta(days=10)
    later_days = [TODAY + timedelta(days=d) for d in range(30)]
    periods = {rules.overdue_prototype(prototype(target), day).period for day in later_days}
    assert len(periods) == 1
    assert rules.overdue_prototype(prototype(target + timedelta(days=5)), TODAY).period not in periods

    named = _cycle(bottleneck_at=_at(TODAY - timedelta(days=20)))
    assert len({rules.missing_baseline(named, day, zone=BERLIN).period for day in later_days}) == 1

    decided = _cycle(stage=Stage.decided, decided_at=_at(TODAY - timedelta(days=20)))
    periods = {rules.no_next_bottleneck(decided, False, day, zone=BERLIN).period for day in later_days}
    assert len(periods) == 1
    # Deciding again (after going back a stage) is a new decision.
    redecided = _cycle(stage=Stage.decided, decided_at=_at(TODAY - timedelta(days=16)))
    assert rules.no_next_bottleneck(redecided, False, TODAY, zone=BERLIN).period not in periods


def test_periods_name_the_cycle_so_two_cycles_never_share_an_e_mail():
    named = _at(TODAY - timedelta(days=20))
    first = rules.missing_baseline(_cycle(id=1, bottleneck_at=named), TODAY, zone=BERLIN)
    second = rules.missing_baseline(_cycle(id=2, bottleneck_at=named), TODAY, zone=BERLIN)
    assert first.period != second.period


# --- one organization's open reminders --------------------------------------------------------------


def _decide(cycle, days_ago, decision=Decision.scale):
    cycle.stage, cycle.decision, cycle.decision_reason = Stage.decided, decision, "x"
    cycle.decided_at = datetime.now(UTC) - timedelta(days=days_ago)


def _today() -> date:
    """The organization's day (``make_org`` is in Berlin): the rules count instants by it."""
    return today_in("Europe/Berlin")


def test_open_reminders_in_one_query_sorted_longest_open_first(session, make_user, make_org, count_queries):
    owner = make_user()
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        recent = named_cycle(session, owner.id, "Seit 9 Tagen ohne Zahlen", named_days_ago=9)
        older = named_cycle(session, owner.id, "Seit 30 Tagen ohne Zahlen", named_days_ago=30)
        named_cycle(session, owner.id, "Neu", named_days_ago=2)
        session.commit()
        with count_queries() as counted:
            reminders = open_reminders(session, _today())
        assert counted.count == 1
        assert [(r.rule, r.cycle_id) for r in reminders] == [
            (Rule.missing_baseline, older.id),
            (Rule.missing_baseline, recent.id),
        ]
        assert reminders[0].since == _today() - timedelta(days=30 - BASELINE_DUE_DAYS - 1)
        for _ in range(20):
            named_cycle(session, owner.id, "Noch einer", named_days_ago=12)
        session.commit()
        with count_queries() as counted:
            assert len(open_reminders(session, _today())) == 22
        assert counted.count == 1


def test_every_reminder_names_its_form_and_section(session, make_user, make_org, app):
    owner = make_user()
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle = named_cycle(session, None, "Ohne Zahlen und ohne Verantwortliche", named_days_ago=10)
        session.commit()
        reminders = open_reminders(session, _today())
    assert {(r.rule, r.endpoint, r.anchor) for r in reminders} == {
        (Rule.missing_baseline, "cycles.baseline", "baseline"),
        (Rule.no_owner, "cycles.bottleneck", "bottleneck"),
    }
    with app.test_request_context():
        urls = {r.rule: (r.form_url(org_slug=org.slug), r.section_url(org_slug=org.slug)) for r in reminders}
    assert urls[Rule.missing_baseline] == (
        f"/o/{org.slug}/cycles/{cycle.id}/baseline",
        f"/o/{org.slug}/cycles/{cycle.id}/#baseline",
    )
    assert {r.kind for r in reminders} == {"reminder.missing_baseline", "reminder.no_owner"}


def test_decided_cycles_remind_only_of_the_next_bottleneck(session, make_user, make_org):
    owner = make_user()
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        # Decided long ago, without an owner, never measured: none of that is a reminder any more.
        old = named_cycle(session, None, "Früher entschieden", named_days_ago=200)
        _decide(old, 100, Decision.drop)
        latest = named_cycle(session, None, "Zuletzt verworfen", named_days_ago=90)
        _decide(latest, NEXT_BOTTLENECK_DUE_DAYS + 1, Decision.drop)
        session.commit()
        (reminder,) = open_reminders(session, _today())
        assert (reminder.rule, reminder.cycle_id, reminder.owner_id) == (Rule.no_next_bottleneck, latest.id, None)
        # Any open cycle means the loop goes on, linked to the decision or not.
        named_cycle(session, owner.id, "Der nächste Engpass")
        session.commit()
        assert open_reminders(session, _today()) == []


def test_another_organizations_cycles_never_appear(session, make_user, make_org):
    owner = make_user()
    mine, theirs = make_org("Meine GmbH", owner=owner), make_org("Andere GmbH", owner=make_user())
    with tenancy.tenant_context(session, theirs.id):
        foreign = named_cycle(session, None, "Fremder Engpass", named_days_ago=30)
        later = named_cycle(session, None, "Fremde Entscheidung", named_days_ago=20)
        _decide(later, 1)
        session.commit()
    with tenancy.tenant_context(session, mine.id):
        assert open_reminders(session, _today()) == []
        decided = named_cycle(session, owner.id, "Meine Entscheidung", named_days_ago=60)
        _decide(decided, 20)
        session.commit()
        # The other organization's newer decision does not hide this one's latest.
        reminders = open_reminders(session, _today())
    assert [(r.rule, r.cycle_id) for r in reminders] == [(Rule.no_next_bottleneck, decided.id)]
    assert foreign.id not in {r.cycle_id for r in reminders}


def test_an_owner_who_left_counts_as_nobody(session, make_user, make_org):
    owner, former = make_user(), make_user(name="Ehemalige")
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle = named_cycle(session, former.id, "Von einer Ehemaligen", named_days_ago=10)
        session.commit()
        reminders = open_reminders(session, _today())
    assert {(r.rule, r.owner_id) for r in reminders} == {(Rule.missing_baseline, None), (Rule.no_owner, None)}
    assert all(r.cycle_id == cycle.id for r in reminders)


def test_owner_filter_and_who_a_reminder_is_addressed_to(session, make_user, make_org):
    owner, member, admin = make_user(name="Sabine"), make_user(name="Jonas"), make_user(name="Anna")
    org = make_org(owner=owner, members={member: Role.member, admin: Role.admin})
    with tenancy.tenant_context(session, org.id):
        jonas = named_cycle(session, member.id, "Leads", named_days_ago=10)
        nobody = named_cycle(session, None, "Niemandes", named_days_ago=1)
        session.commit()
        everything = open_reminders(session, _today())
        assert [r.cycle_id for r in open_reminders(session, _today(), owner_id=member.id)] == [jonas.id]
        assert open_reminders(session, _today(), owner_id=owner.id) == []
    (for_jonas,) = [r for r in everything if r.cycle_id == jonas.id]
    (unowned,) = [r for r in everything if r.cycle_id == nobody.id]
    assert for_jonas.owner_name == "Jonas"
    assert addressed_to(for_jonas, member.id, Role.member)
    assert not addressed_to(for_jonas, owner.id, Role.owner)
    assert addressed_to(unowned, owner.id, Role.owner) and addressed_to(unowned, admin.id, Role.admin)
    assert not addressed_to(unowned, member.id, Role.member)


def test_measurements_and_stage_dates_come_from_the_database(session, make_user, make_org):
    owner = make_user()
    org = make_org(owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle = named_cycle(session, owner.id, "Messen", named_days_ago=80)
        save_a_baseline(session, cycle, owner.id)
        cycles.save_solution(session, cycle, {"solution_what": "Vorlage", "solution_type": SolutionType.other}, None)
        cycles.start_prototype(session, cycle, {"prototype_start": _today() - timedelta(days=50)}, None)
        cycles.add_measurement(
            session, cycle, {"measured_on": _today() - timedelta(days=40), "kpi_value": Decimal(7)}, None
        )
        cycle.result_at = cycle.result_at - timedelta(days=40)
        session.add(Measurement(cycle_id=cycle.id, measured_on=_today() - timedelta(days=20), kpi_value=Decimal(6)))
        session.commit()
        (reminder,) = open_reminders(session, _today())
    assert (reminder.rule, reminder.reference) == (Rule.missing_measurement, _today() - timedelta(days=20))


def test_today_in_the_organizations_time_zone():
    late_evening = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    assert today_in("Europe/Berlin", late_evening) == date(2026, 11, 26)
    assert today_in("America/New_York", late_evening) == date(2026, 11, 25)
    assert today_in("Not/AZone", late_evening) == date(2026, 11, 25)


def test_an_instant_counts_by_the_organizations_day():
    # 23:30 UTC on the 17th is 00:30 on the 18th in Berlin: named on the 18th, due from the 26th there.
    named = datetime(2026, 11, 17, 23, 30, tzinfo=UTC)
    assert rules.missing_baseline(_cycle(bottleneck_at=named), TODAY, zone=BERLIN) is None
    assert rules.missing_baseline(_cycle(bottleneck_at=named), TODAY + timedelta(days=1), zone=BERLIN).reference == (
        date(2026, 11, 18)
    )
    assert rules.missing_baseline(_cycle(bottleneck_at=named), TODAY, zone=UTC).reference == date(2026, 11, 17)
    # Naive instants (SQLite) are UTC.
    naive = named.replace(tzinfo=None)
    assert rules.no_owner(_cycle(owner_id=None, bottleneck_at=naive), False, zone=BERLIN).since == date(2026, 11, 18)


def test_the_situation_carries_the_organizations_time_zone(session, make_user, make_org):
    owner = make_user()
    org = make_org(owner=owner)
    org.timezone = "America/New_York"
    session.commit()
    with tenancy.tenant_context(session, org.id):
        assert rules.load(session).zone == UTC, "no cycles, no days to count"
        named_cycle(session, owner.id, "Angebote")
        session.commit()
        assert rules.load(session).zone == ZoneInfo("America/New_York")
