"""The reminder e-mails through a real SMTP server on loopback: one bundled mail per recipient and
organization, in their language, each link to the form that resolves it; once per rule and period; the
right recipients; retries through the resend sweep; and two runs at once sending one mail."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import create_app, mail, tenancy
from engpass.accounts.models import User
from engpass.cycles.models import Cycle, KpiDirection, Measurement, Stage
from engpass.db import utcnow
from engpass.i18n import today_in
from engpass.notifications import preferences, resend, sendlog
from engpass.notifications.models import SendLog, SendStatus
from engpass.organizations.models import Role
from engpass.organizations.service import add_member, create_organization
from engpass.reminders import mailing
from engpass.reminders.mailing import send_reminders, send_round
from tests.support.browser import assert_fits_a_phone
from tests.support.committed import CommittedOrg, committed_org
from tests.support.cycles import named_cycle, save_a_baseline

BASE = "http://engpass.test"


def _now() -> datetime:
    return datetime.now(UTC)


def _today():
    """The organizations' day (Berlin), which the rules count in."""
    return today_in("Europe/Berlin")


def _overdue_prototype(session, owner_id: int, title: str) -> Cycle:
    cycle = named_cycle(session, owner_id, title, named_days_ago=40)
    cycle.stage = Stage.prototype
    cycle.hours_per_week, cycle.kpi_name, cycle.kpi_unit = Decimal(5), "Dauer", "Tage"
    cycle.kpi_direction, cycle.kpi_baseline = KpiDirection.lower, Decimal(9)
    cycle.prototype_start, cycle.prototype_target = _today() - timedelta(days=30), _today() - timedelta(days=3)
    return cycle


def _unmeasured_result(session, owner_id: int, title: str, measured_days_ago: int) -> Cycle:
    cycle = _overdue_prototype(session, owner_id, title)
    cycle.stage, cycle.result_at = Stage.result, _now() - timedelta(days=measured_days_ago + 10)
    session.flush()
    session.add(Measurement(cycle_id=cycle.id, measured_on=_today() - timedelta(days=measured_days_ago), kpi_value=1))
    return cycle


@dataclass
class Company:
    org_id: int
    slug: str
    owner: User  # Sabine, German
    member: User  # Jonas, English
    admin: User  # Anna
    viewer: User  # Vera
    outsider: User  # owner of another organization
    baseline_id: int  # Sabine's, status quo missing
    prototype_id: int  # Sabine's, past its target date
    unowned_id: int  # nobody's
    jonas_id: int  # Jonas's, status quo missing


@pytest.fixture
def company(session, make_user) -> Company:
    owner = make_user(email="sabine@example.com", name="Sabine")
    member = make_user(email="jonas@example.com", name="Jonas", locale="en")
    admin = make_user(email="anna@example.com", name="Anna")
    viewer = make_user(email="vera@example.com", name="Vera")
    outsider = make_user(email="otto@example.com", name="Otto")
    org = create_organization(session, "Beispiel GmbH", owner)
    for user, role in ((member, Role.member), (admin, Role.admin), (viewer, Role.viewer)):
        add_member(session, org, user, role)
    other = create_organization(session, "Andere GmbH", outsider)
    add_member(session, other, viewer, Role.owner)
    session.commit()
    with tenancy.tenant_context(session, other.id):
        named_cycle(session, None, "Fremder Engpass", named_days_ago=20)
        session.commit()
    with tenancy.tenant_context(session, org.id):
        baseline = named_cycle(session, owner.id, "Angebote dauern 9 Tage", named_days_ago=10)
        prototype = _overdue_prototype(session, owner.id, "Rechnungen zu spät")
        unowned = named_cycle(session, None, "Lager unübersichtlich", named_days_ago=2)
        jonas = named_cycle(session, member.id, "Leads versanden", named_days_ago=9)
        session.commit()
        ids = baseline.id, prototype.id, unowned.id, jonas.id
    return Company(org.id, org.slug, owner, member, admin, viewer, outsider, *ids)


def _run(session, settings, company: Company, now: datetime | None = None) -> int:
    return send_reminders(session, company.org_id, now or _now(), settings)


def _by_recipient(server) -> dict[str, list[EmailMessage]]:
    mails: dict[str, list[EmailMessage]] = {}
    for received in server.handler.received:
        (to,) = received.rcpt_tos
        mails.setdefault(to, []).append(received.message)
    return mails


def _parts(message: EmailMessage) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def _rows(session, user_id: int) -> list[SendLog]:
    return list(session.scalars(select(SendLog).where(SendLog.user_id == user_id).order_by(SendLog.id)))


LINK = re.compile(r"https?://[^\s\"<]+?/(?:cycles/\d+/[^\s\"<]*|todo\b)")


def test_the_owner_gets_one_bundled_mail_in_german_with_a_link_to_each_resolving_form(
    app, session, settings, company, smtp, client, login
):
    with app.app_context():
        assert _run(session, settings, company) == 3
    mails = _by_recipient(smtp)
    assert sorted(mails) == ["anna@example.com", "jonas@example.com", "sabine@example.com"]
    (message,) = mails["sabine@example.com"]
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"] == "Beispiel GmbH: 3 Punkte warten auf Sie"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text_part, html = _parts(message)
    o = f"{BASE}/o/{company.slug}"
    forms = {
        f"{o}/cycles/{company.baseline_id}/baseline": "Ist-Zustand quantifizieren",
        f"{o}/cycles/{company.prototype_id}/measurements/new": "Messung erfassen",
        f"{o}/cycles/{company.unowned_id}/bottleneck": "Verantwortliche Person festlegen",
    }
    for part in (text_part, html):
        assert "Hallo Sabine," in part
        assert "bei Beispiel GmbH warten diese 3 Punkte auf Sie:" in part
        for title in ("Angebote dauern 9 Tage", "Rechnungen zu spät", "Lager unübersichtlich"):
            assert title in part
        assert "der Ist-Zustand ist noch nicht quantifiziert" in part
        assert "Der Prototyp hat seinen Zieltermin" in part
        assert "Für diesen Zyklus ist niemand verantwortlich" in part
        assert len(re.findall(r"Offen seit \d\d\.\d\d\.\d{4}", part)) == 3
        assert "Leads versanden" not in part, "Jonas's cycle is his"
        assert set(LINK.findall(part)) == set(forms) | {f"{o}/todo"}
        assert "Von Erinnerungen abmelden" in part
    for url, action in forms.items():
        assert f"{action}: {url}" in text_part
        assert f'href="{url}"' in html
    for forbidden in ("<script", "<svg", "<style", "class="):
        assert forbidden not in html
    # The links open the forms themselves, for the owner who follows them.
    login(company.owner)
    for url in forms:
        response = client.get(url.removeprefix(BASE))
        assert response.status_code == 200, url
        assert "<form" in response.text


def test_the_reminder_mail_fits_a_phone(app, session, settings, company, smtp, browser, shots):
    with app.app_context():
        _run(session, settings, company)
    (message,) = _by_recipient(smtp)["sabine@example.com"]
    assert_fits_a_phone(browser, _parts(message)[1], shots / "email-reminders-375.png")


def test_a_viewer_who_owns_a_cycle_is_linked_to_its_page_not_to_a_form_they_may_not_use(
    app_context, session, settings, company, smtp
):
    with tenancy.tenant_context(session, company.org_id):
        cycle_id = named_cycle(session, company.viewer.id, "Vera liest nur", named_days_ago=9).id
        session.commit()
    _run(session, settings, company)
    (message,) = _by_recipient(smtp)["vera@example.com"]
    text_part, html = _parts(message)
    assert f"Zyklus öffnen: {BASE}/o/{company.slug}/cycles/{cycle_id}/#baseline" in text_part
    assert "/baseline" not in text_part.replace("/#baseline", "")


def test_each_recipient_reads_their_own_language_and_only_what_is_theirs(app_context, session, settings, company, smtp):
    _run(session, settings, company)
    mails = _by_recipient(smtp)
    (jonas,) = mails["jonas@example.com"]
    assert jonas["Subject"] == "Beispiel GmbH: Status quo not quantified – Leads versanden"
    text_part, _html = _parts(jonas)
    assert "Hello Jonas," in text_part
    assert "in Beispiel GmbH, this is waiting for you:" in text_part
    assert f"{BASE}/o/{company.slug}/cycles/{company.jonas_id}/baseline" in text_part
    assert "Unsubscribe from reminders" in text_part
    (anna,) = mails["anna@example.com"]
    text_part, _html = _parts(anna)
    assert anna["Subject"].startswith("Beispiel GmbH: Niemand verantwortlich – Lager unübersichtlich")
    assert "Für diesen Zyklus ist niemand verantwortlich" in text_part
    assert f"/cycles/{company.unowned_id}/bottleneck" in text_part
    assert "Angebote dauern 9 Tage" not in text_part, "a cycle with an owner is the owner's alone"


def test_a_second_run_sends_nothing_and_the_next_period_sends_again(app_context, session, settings, company, smtp):
    assert _run(session, settings, company) == 3
    assert _run(session, settings, company) == 0
    assert _run(session, settings, company, _now() + timedelta(days=3)) == 0, "once per period, not per day"
    assert len(smtp.handler.received) == 3
    with tenancy.tenant_context(session, company.org_id):
        cycle_id = _unmeasured_result(session, company.member.id, "Messen", measured_days_ago=20).id
        session.commit()
    assert _run(session, settings, company) == 1, "a new reminder is a new mail, with only itself"
    (first,) = _by_recipient(smtp)["jonas@example.com"][1:]
    assert "Messen" in first["Subject"] and "Leads versanden" not in _parts(first)[0]
    # Two weeks on, the measurement is missing for another fortnight: its next period (and the cycle
    # nobody owns has been without its status quo for a week: for Sabine and Anna).
    assert _run(session, settings, company, _now() + timedelta(days=14)) == 3
    again = _by_recipient(smtp)["jonas@example.com"][2]
    assert "Messen" in again["Subject"]
    periods = [r.period for r in _rows(session, company.member.id) if r.kind == "reminder.missing_measurement"]
    assert [p.rsplit(":", 1)[1] for p in periods] == ["1", "2"]
    assert all(p.startswith(f"{cycle_id}:") for p in periods)
    assert _run(session, settings, company, _now() + timedelta(days=14)) == 0


def test_only_the_owners_and_admins_hear_of_a_cycle_nobody_owns(app_context, session, settings, make_user, smtp):
    owner, admin, member, viewer = (make_user(email=f"{n}@example.com", name=n) for n in ("o", "a", "m", "v"))
    stranger = make_user(email="fremd@example.com")
    org = create_organization(session, "Niemands GmbH", owner)
    for user, role in ((admin, Role.admin), (member, Role.member), (viewer, Role.viewer)):
        add_member(session, org, user, role)
    elsewhere = create_organization(session, "Fremd GmbH", stranger)
    add_member(session, elsewhere, member, Role.admin)
    session.commit()
    with tenancy.tenant_context(session, org.id):
        named_cycle(session, None, "Ohne Verantwortliche", named_days_ago=12)
        # An owner who left counts as nobody: the stranger owns a cycle here but is no member.
        named_cycle(session, stranger.id, "Von einem Ehemaligen", named_days_ago=1)
        session.commit()
    assert send_reminders(session, org.id, _now(), settings) == 2
    assert sorted(_by_recipient(smtp)) == ["a@example.com", "o@example.com"]
    for message in smtp.handler.received:
        text_part = _parts(message.message)[0]
        assert "Ohne Verantwortliche" in text_part and "Von einem Ehemaligen" in text_part
        # The status quo's reminder says who steps in; the one that nobody is responsible says it itself.
        assert text_part.count("Verantwortlich: niemand – Inhaber und Administratoren übernehmen") == 1
        assert "Status quo" not in message.message["Subject"]
    for user in (member, viewer, stranger):
        assert _rows(session, user.id) == []


def test_nothing_for_a_user_who_switched_reminders_off(app_context, session, settings, company, smtp):
    preferences.save(session, company.owner.id, reminders_enabled=False)
    session.commit()
    assert _run(session, settings, company) == 2
    assert "sabine@example.com" not in _by_recipient(smtp)
    assert _rows(session, company.owner.id) == [], "nothing claimed, so switching back on sends what is open"
    preferences.save(session, company.owner.id, reminders_enabled=True)
    session.commit()
    assert _run(session, settings, company) == 1
    assert len(_by_recipient(smtp)["sabine@example.com"]) == 1


def _later(monkeypatch, delay: timedelta) -> None:
    later = utcnow() + delay + timedelta(seconds=1)
    monkeypatch.setattr(sendlog, "utcnow", lambda: later)


def test_a_mail_the_server_delays_is_sent_again_by_the_sweep_as_one_bundle(
    app_context, session, settings, company, smtp, monkeypatch
):
    smtp.handler.mode = "451"
    assert _run(session, settings, company) == 0
    rows = _rows(session, company.owner.id)
    assert [(r.status, r.attempts) for r in rows] == [(SendStatus.retry, 1)] * 3
    assert all(r.last_error.startswith("451") for r in rows)
    smtp.handler.mode = "accept"
    assert resend.resend_due(session) == 0, "not before its time"
    assert _run(session, settings, company) == 0, "the morning run does not send it early either"
    _later(monkeypatch, sendlog.RETRY_DELAYS[0])
    assert resend.resend_due(session) == 3, "one mail each for Sabine, Jonas and Anna"
    (message,) = _by_recipient(smtp)["sabine@example.com"]
    assert message["Subject"] == "Beispiel GmbH: 3 Punkte warten auf Sie"
    rows = _rows(session, company.owner.id)
    for row in rows:
        session.refresh(row)
    assert {(r.status, r.attempts, r.message_id) for r in rows} == {(SendStatus.sent, 2, message["Message-ID"])}
    assert resend.resend_due(session) == 0
    assert _run(session, settings, company) == 0
    assert len(smtp.handler.received) == 3


def test_a_mail_the_server_refuses_is_not_sent_again(app_context, session, settings, company, smtp, monkeypatch):
    smtp.handler.mode = "550"
    assert _run(session, settings, company) == 0
    rows = _rows(session, company.owner.id)
    assert {(r.status, r.last_error) for r in rows} == {(SendStatus.failed, "550 5.7.1 Message refused")}
    smtp.handler.mode = "accept"
    _later(monkeypatch, timedelta(days=2))
    assert resend.resend_due(session) == 0
    assert _run(session, settings, company) == 0
    assert smtp.handler.received == []


def test_what_was_resolved_before_the_retry_is_given_up_and_the_rest_sent(
    app_context, session, settings, company, smtp, monkeypatch
):
    smtp.handler.mode = "451"
    _run(session, settings, company)
    smtp.handler.mode = "accept"
    with tenancy.tenant_context(session, company.org_id):
        # The owner names someone responsible and quantifies the status quo meanwhile.
        session.get(Cycle, company.unowned_id).owner_id = company.admin.id
        save_a_baseline(session, session.get(Cycle, company.baseline_id), company.owner.id)
        session.commit()
    _later(monkeypatch, sendlog.RETRY_DELAYS[0])
    assert resend.resend_due(session) == 2, "Sabine's prototype and Jonas's status quo; Anna's is resolved"
    (message,) = _by_recipient(smtp)["sabine@example.com"]
    assert "Rechnungen zu spät" in message["Subject"]
    assert "Angebote dauern 9 Tage" not in _parts(message)[0]
    assert "anna@example.com" not in _by_recipient(smtp)
    by_kind = {r.kind: r for r in _rows(session, company.owner.id) + _rows(session, company.admin.id)}
    for row in by_kind.values():
        session.refresh(row)
    assert by_kind["reminder.overdue_prototype"].status == SendStatus.sent
    for kind in ("reminder.missing_baseline", "reminder.no_owner"):
        assert (by_kind[kind].status, by_kind[kind].last_error) == (SendStatus.failed, mailing.GIVEN_UP_RESOLVED)
    assert resend.resend_due(session) == 0


def test_a_retry_for_a_user_who_switched_reminders_off_meanwhile_is_given_up(
    app_context, session, settings, company, smtp, monkeypatch
):
    smtp.handler.mode = "451"
    _run(session, settings, company)
    smtp.handler.mode = "accept"
    preferences.save(session, company.member.id, reminders_enabled=False)
    session.commit()
    _later(monkeypatch, sendlog.RETRY_DELAYS[0])
    assert resend.resend_due(session) == 2
    assert "jonas@example.com" not in _by_recipient(smtp)
    (row,) = _rows(session, company.member.id)
    session.refresh(row)
    assert (row.status, row.last_error) == (SendStatus.failed, mailing.GIVEN_UP_SWITCHED_OFF)


def test_one_broken_organization_does_not_hold_back_the_others(
    app_context, session, settings, company, make_user, smtp, monkeypatch
):
    owner = make_user(email="zweite@example.com")
    second = create_organization(session, "Zweite GmbH", owner)
    session.commit()
    with tenancy.tenant_context(session, second.id):
        named_cycle(session, owner.id, "Auch offen", named_days_ago=10)
        session.commit()
    second_id = second.id
    real = mailing.open_reminders

    def broken_for_the_first(s, today, owner_id=None):
        if tenancy.current_org_id() == company.org_id:
            raise RuntimeError("broken data")
        return real(s, today, owner_id)

    monkeypatch.setattr(mailing, "open_reminders", broken_for_the_first)
    result = send_round(session, [company.org_id, second_id], _now(), settings)
    assert (result.sent, result.failed) == (1, [company.org_id])
    assert sorted(_by_recipient(smtp)) == ["zweite@example.com"]


def test_the_command_sends_one_organization_or_all_of_them(app, app_context, settings, company, smtp, monkeypatch):
    from engpass.cli import cli

    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["reminders", "send-due", "--org", company.slug])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "organizations=1 sent=3 failed=0"
    result = runner.invoke(cli, ["reminders", "send-due"])
    assert result.exit_code == 0, result.output
    assert "sent=2 failed=0" in result.output, "Otto and Vera for Andere GmbH; Beispiel GmbH had its round"
    assert len(smtp.handler.received) == 5
    result = runner.invoke(cli, ["reminders", "send-due", "--org", "gibt-es-nicht"])
    assert result.exit_code != 0 and "gibt-es-nicht" in result.output


# --- two runs at once: separate connections that really commit ---------------------------------


@pytest.fixture
def committed(databases: dict[str, str], live_engine: Any) -> Iterator[CommittedOrg]:
    with committed_org(databases, live_engine, "race", "Race", {"Gleichzeitig": 10, "Auch gleichzeitig": 12}) as org:
        yield org


def test_two_runs_at_the_same_time_send_one_mail(settings, live_engine, committed, smtp, monkeypatch):
    # Not the app fixture: its open test transaction would hold SQLite's write lock.
    app = create_app(settings)
    real_send = mail.Mailer.send

    def slow_send(mailer: mail.Mailer, message: mail.OutgoingMail) -> mail.SendResult:
        # Widen the window between claiming the send log and recording the result.
        time.sleep(0.5)
        return real_send(mailer, message)

    monkeypatch.setattr(mail.Mailer, "send", slow_send)
    both_started = threading.Barrier(2, timeout=10)
    results: list[int | BaseException] = []

    def run() -> None:
        try:
            with app.app_context(), Session(live_engine) as s:
                both_started.wait()
                results.append(send_reminders(s, committed.org_id, _now(), settings))
        except BaseException as exc:  # surfaced in the main thread
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results, key=str) == [0, 1]
    (received,) = smtp.handler.received
    assert "2 Punkte" in received.message["Subject"]
    with Session(live_engine) as s:
        rows = list(s.scalars(select(SendLog).where(SendLog.user_id == committed.user_id)))
    assert [(r.kind, r.status, r.attempts) for r in rows] == [("reminder.missing_baseline", SendStatus.sent, 1)] * 2
