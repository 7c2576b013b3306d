"""Weekly digests over a real SMTP server on loopback: at the reader's hour in the reader's time zone,
once per user, organization and week, nothing lost when the server fails."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engpass import tenancy
from engpass.cli import cli
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel
from engpass.cycles.models import Measurement, StageChange
from engpass.digest.sending import CLIENTS_KIND, kind_for, send_round, week_of_period
from engpass.notifications import preferences
from engpass.notifications.models import SendLog, SendStatus
from engpass.notifications.resend import resend_due
from engpass.organizations.models import OrgKind, Role
from engpass.organizations.service import add_member
from tests.support.browser import assert_fits_a_phone
from tests.support.digests import BERLIN, described_week, monday_7, period, scaled_cycle_with_trends


@pytest.fixture
def company(session, make_user, make_org):
    owner = make_user(email="sabine@example.com", name="Sabine Müller")
    org = make_org("Digest GmbH", owner=owner)
    scaled_cycle_with_trends(session, org, owner)
    return owner, org


def _log(session, user, org):
    return session.scalars(select(SendLog).where(SendLog.user_id == user.id, SendLog.kind == kind_for(org.id))).all()


def test_the_digest_arrives_at_the_readers_hour_once(app_context, session, smtp, company):
    owner, org = company
    assert send_round(session, monday_7() - timedelta(hours=1)) == 0
    assert send_round(session, monday_7()) == 1
    assert send_round(session, monday_7()) == 0, "the send log keeps it to one"
    (received,) = smtp.handler.received
    mail = received.message
    assert received.rcpt_tos == ["sabine@example.com"]
    assert mail["Subject"].startswith(f"Digest GmbH: Ihre Woche {described_week(monday_7())[0]:%d.%m.%y}")
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()
    assert "Hallo Sabine Müller" in text and "http://engpass.test/o/digest-gmbh/" in text
    (entry,) = _log(session, owner, org)
    assert (entry.status, entry.period) == (SendStatus.sent, period(monday_7()))
    assert entry.message_id == mail["Message-ID"]


def test_the_period_names_the_week_it_is_sent_in_and_describes_the_one_before():
    assert week_of_period("2026-W50") == (date(2026, 11, 30), date(2026, 12, 6))
    assert week_of_period("2027-W01") == (date(2026, 12, 28), date(2027, 1, 3))


def test_a_reader_in_new_york_gets_it_at_seven_in_new_york(app_context, session, smtp, company):
    owner, org = company
    owner.timezone = "America/New_York"
    session.commit()
    assert send_round(session, monday_7()) == 0
    seven_in_new_york = datetime.combine(monday_7().date(), time(7), tzinfo=ZoneInfo("America/New_York"))
    assert send_round(session, seven_in_new_york.astimezone(UTC)) == 1


def test_after_the_spring_change_seven_oclock_is_five_utc(app_context, session, smtp, company):
    # Clocks went forward on Sunday 28 March 2027; on Monday 07:00 in Berlin is 05:00 UTC.
    assert send_round(session, datetime(2027, 3, 29, 6, 0, tzinfo=UTC)) == 0
    assert send_round(session, datetime(2027, 3, 29, 5, 0, tzinfo=UTC)) == 1


def test_the_readers_weekday_and_hour(app_context, session, smtp, company):
    owner, _ = company
    preferences.save(session, owner.id, digest_weekday=4, digest_hour=16)
    session.commit()
    assert send_round(session, monday_7()) == 0
    friday_16 = datetime.combine(monday_7().date() + timedelta(days=4), time(16), tzinfo=BERLIN)
    assert send_round(session, friday_16.astimezone(UTC)) == 1


def test_switched_off_means_no_digest_even_by_hand(app_context, session, smtp, company):
    owner, _ = company
    preferences.save(session, owner.id, digest_enabled=False)
    session.commit()
    assert send_round(session, monday_7()) == 0
    assert send_round(session, monday_7(), everyone=True) == 0
    assert smtp.handler.received == []


def test_one_digest_per_organization_in_the_readers_language(app_context, session, smtp, company, make_org):
    owner, org = company
    owner.locale = "en"
    second = make_org("Zweite GmbH", owner=owner)
    scaled_cycle_with_trends(session, second, owner)
    make_org("Leer GmbH", owner=owner)  # nothing happened there yet: no e-mail
    assert send_round(session, monday_7()) == 2
    subjects = sorted(r.message["Subject"] for r in smtp.handler.received)
    assert subjects[0].startswith("Digest GmbH: your week") and subjects[1].startswith("Zweite GmbH: your week")


def test_members_get_their_own_to_do_and_other_tenants_nothing(app_context, session, smtp, company, make_user):
    owner, org = company
    viewer = make_user(email="viewer@example.com")
    add_member(session, org, viewer, Role.viewer)
    stranger = make_user(email="stranger@example.com")
    session.commit()
    assert send_round(session, monday_7()) == 2
    recipients = sorted(r.rcpt_tos[0] for r in smtp.handler.received)
    assert recipients == ["sabine@example.com", "viewer@example.com"]
    assert stranger.email not in recipients


def test_a_failing_server_loses_nothing(app_context, session, smtp_server, settings, company):
    owner, org = company
    down = smtp_server(mode="451")
    settings.smtp_url = down.url
    assert send_round(session, monday_7()) == 0
    (entry,) = _log(session, owner, org)
    assert entry.status == SendStatus.retry and "451" in entry.last_error
    up = smtp_server()
    settings.smtp_url = up.url
    # The resend sweep, once the retry is due.
    entry.next_attempt_at = datetime(2000, 1, 1)
    session.commit()
    assert resend_due(session) == 1
    assert resend_due(session) == 0
    assert len(up.handler.received) == 1
    session.expire_all()
    assert _log(session, owner, org)[0].status == SendStatus.sent


def test_a_refusing_server_is_recorded_and_not_retried(app_context, session, smtp_server, settings, company):
    owner, org = company
    settings.smtp_url = smtp_server(mode="550").url
    assert send_round(session, monday_7()) == 0
    (entry,) = _log(session, owner, org)
    assert entry.status == SendStatus.failed
    assert resend_due(session) == 0


def test_the_command_sends_one_round_and_now_treats_everyone_as_due(app, session, smtp, company, monkeypatch):
    _, org = company
    # Whatever this week's day, the digest sent now describes last week: that is when the cycle moved.
    with tenancy.tenant_context(session, org.id):
        for move in session.scalars(select(StageChange)):
            move.created_at -= timedelta(days=7)
        session.commit()
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["digest", "send-due", "--now"])
    assert result.exit_code == 0, result.output
    assert "sent=1" in result.output
    again = runner.invoke(cli, ["digest", "send-due", "--now"])
    assert "sent=0" in again.output


# --- consultants: one digest across their clients --------------------------------------------


@pytest.fixture
def consultant(session, make_user, make_org, company):
    """Petra of Weber Beratung, with edit access to Digest GmbH and read access to a second client."""
    _, first = company
    petra = make_user(email="petra@weber.example", name="Petra Weber")
    firm = make_org("Weber Beratung", owner=petra, kind=OrgKind.consultancy)
    second_owner = make_user(email="otto@zweite.example", name="Otto")
    second = make_org("Zweite GmbH", owner=second_owner)
    scaled_cycle_with_trends(session, second, second_owner)
    consulting.grant(session, first, firm, AccessLevel.edit, actor_id=None)
    consulting.grant(session, second, firm, AccessLevel.read, actor_id=None)
    session.commit()
    return petra, firm, first, second


def _mails_to(smtp, address):
    return [r.message for r in smtp.handler.received if r.rcpt_tos == [address]]


def _into_the_digests_week(session, org) -> None:
    """Move the organization's stage changes and measurements, in their order, to the Sunday before
    ``monday_7()``: the fixtures make them now, which is a later week from that Monday on."""
    latest = monday_7() - timedelta(days=1)
    with tenancy.tenant_context(session, org.id):
        rows = [*session.scalars(select(StageChange)), *session.scalars(select(Measurement))]
        # SQLite hands back naive UTC, PostgreSQL aware moments.
        moments = [row.created_at.replace(tzinfo=row.created_at.tzinfo or UTC) for row in rows]
        shift = max(moments) - latest
        for row, moment in zip(rows, moments, strict=True):
            row.created_at = moment - shift
        session.commit()


def test_a_consultant_gets_one_digest_across_all_clients(app_context, session, smtp, consultant, browser, shots):
    petra, firm, first, second = consultant
    for client in (first, second):
        _into_the_digests_week(session, client)
    assert send_round(session, monday_7()) == 3, "the two companies' owners and Petra once"
    (mail,) = _mails_to(smtp, "petra@weber.example")
    assert mail["Subject"].startswith(f"Ihre Mandanten: die Woche {described_week(monday_7())[0]:%d.%m.%y}")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for part in (text, html):
        assert "Hallo Petra Weber" in part and "Ihrer 2 Mandanten" in part
        assert "Digest GmbH" in part and "Zweite GmbH" in part
        assert "Angebote entschieden: Skalieren" in part and "… und 3 weitere im Dashboard." in part
        assert f"http://engpass.test/o/{first.slug}/" in part and f"http://engpass.test/o/{second.slug}/" in part
        assert f"http://engpass.test/o/{firm.slug}/portfolio" in part
        assert "1 Warnsignal" in part, "each client decided without a sponsor"
    assert text.index("Digest GmbH") < text.index("Zweite GmbH")
    assert_fits_a_phone(browser, html, shots / "email-digest_clients-375.png")
    (entry,) = session.scalars(select(SendLog).where(SendLog.user_id == petra.id)).all()
    assert (entry.kind, entry.status, entry.period) == (CLIENTS_KIND, SendStatus.sent, period(monday_7()))
    assert send_round(session, monday_7()) == 0, "once per week"


def test_a_revoked_client_is_no_longer_in_it_and_without_clients_there_is_none(app_context, session, smtp, consultant):
    petra, firm, first, second = consultant
    (access,) = [a for a in consulting.accesses_of_client(session, second.id) if a.revoked_at is None]
    consulting.revoke(session, second, access.id, actor_id=None)
    session.commit()
    send_round(session, monday_7())
    (mail,) = _mails_to(smtp, "petra@weber.example")
    text = mail.get_body(("plain",)).get_content()
    assert "Digest GmbH" in text and "Zweite GmbH" not in text
    (access,) = [a for a in consulting.accesses_of_client(session, first.id) if a.revoked_at is None]
    consulting.revoke(session, first, access.id, actor_id=None)
    session.commit()
    assert send_round(session, monday_7() + timedelta(days=7)) == 2, "the owners only"
    assert len(_mails_to(smtp, "petra@weber.example")) == 1


def test_a_client_the_consultant_belongs_to_is_in_the_consultants_digest_only(app_context, session, smtp, consultant):
    petra, _firm, first, _second = consultant
    add_member(session, first, petra, Role.member)
    session.commit()
    assert send_round(session, monday_7()) == 3
    (mail,) = _mails_to(smtp, "petra@weber.example")
    assert mail["Subject"].startswith("Ihre Mandanten")


def test_a_consultants_digest_refused_for_now_is_sent_later(app_context, session, smtp_server, settings, consultant):
    petra, *_ = consultant
    settings.smtp_url = smtp_server(mode="451").url
    assert send_round(session, monday_7()) == 0
    up = smtp_server()
    settings.smtp_url = up.url
    for entry in session.scalars(select(SendLog)):
        entry.next_attempt_at = datetime(2000, 1, 1)
    session.commit()
    assert resend_due(session) == 3
    (mail,) = _mails_to(up, "petra@weber.example")
    assert "Zweite GmbH" in mail.get_body(("plain",)).get_content()
    assert resend_due(session) == 0


def test_two_workers_racing_send_one_digest(tmp_path, databases, redis_url, live_engine, smtp_server):
    """The same batch delivered twice, to two real worker processes at once: one e-mail."""
    from sqlalchemy.orm import Session

    from engpass.accounts.service import sign_up
    from engpass.task_names import SEND_DIGEST_BATCH
    from tests.support.committed import delete_committed
    from tests.support.workers import private_queue, running_worker, wait_for

    server = smtp_server()
    tag = uuid4().hex[:8]
    with Session(live_engine, expire_on_commit=False) as s:
        owner, org = sign_up(s, name="Rennen", email=f"race-{tag}@example.com", password="x" * 12, company=tag)
        s.commit()
        scaled_cycle_with_trends(s, org, owner)
    kwargs = {"user_ids": [owner.id], "now": monday_7().isoformat()}
    try:
        with (
            private_queue(redis_url) as (queue, publish),
            running_worker(tmp_path, databases, redis_url=redis_url, queue=queue, smtp_url=server.url, name="a") as a,
            running_worker(tmp_path, databases, redis_url=redis_url, queue=queue, smtp_url=server.url, name="b") as b,
        ):
            publish(SEND_DIGEST_BATCH, kwargs, f"digest-{tag}-1")
            publish(SEND_DIGEST_BATCH, kwargs, f"digest-{tag}-2")
            wait_for(lambda: len(a.successes(f"digest-{tag}-1") + b.successes(f"digest-{tag}-1")) == 1, "the first")
            wait_for(lambda: len(a.successes(f"digest-{tag}-2") + b.successes(f"digest-{tag}-2")) == 1, "the second")
        assert [r.rcpt_tos for r in server.handler.received] == [[owner.email]]
        with Session(live_engine) as s:
            (entry,) = s.scalars(select(SendLog).where(SendLog.user_id == owner.id)).all()
            assert entry.status == SendStatus.sent and entry.attempts == 1
    finally:
        delete_committed(databases, org.id, owner.id)


def test_a_batch_on_the_embedded_broker_goes_out_once(tmp_path, databases, live_engine, smtp_server):
    """The embedded default (`make run`: SQLite, no Redis): the worker reads in its session and writes the
    send log on an autocommit connection of the same database file, and the two do not lock each other out."""
    from sqlalchemy.orm import Session

    from engpass import create_app
    from engpass.accounts.service import sign_up
    from engpass.outbox.service import EXTENSION_KEY
    from engpass.settings import Settings
    from engpass.task_names import SEND_DIGEST_BATCH
    from tests.support.committed import delete_committed
    from tests.support.workers import running_worker, wait_for

    server = smtp_server()
    tag = uuid4().hex[:8]
    with Session(live_engine, expire_on_commit=False) as s:
        owner, org = sign_up(s, name="Eingebettet", email=f"embedded-{tag}@example.com", password="x" * 12, company=tag)
        s.commit()
        scaled_cycle_with_trends(s, org, owner)
    settings = Settings.from_env(
        {
            "database_url": databases["app"],
            "migration_database_url": databases["owner"],
            "instance_dir": str(tmp_path / "worker-instance"),
            "secret_key": "x",
            "redis_url": "",
            "smtp_url": server.url,
        }
    )
    publish = create_app(settings).extensions[EXTENSION_KEY]
    kwargs = {"user_ids": [owner.id], "now": monday_7().isoformat()}
    try:
        with running_worker(tmp_path, databases, smtp_url=server.url) as worker:
            publish(SEND_DIGEST_BATCH, kwargs, f"digest-{tag}-1")
            wait_for(lambda: worker.successes(f"digest-{tag}-1"), "the batch", worker=worker)
            publish(SEND_DIGEST_BATCH, kwargs, f"digest-{tag}-2")
            wait_for(lambda: worker.successes(f"digest-{tag}-2"), "the batch again", worker=worker)
        assert [r.rcpt_tos for r in server.handler.received] == [[owner.email]]
        with Session(live_engine) as s:
            (entry,) = s.scalars(select(SendLog).where(SendLog.user_id == owner.id)).all()
            assert (entry.status, entry.attempts) == (SendStatus.sent, 1)
    finally:
        delete_committed(databases, org.id, owner.id)


def test_the_digests_one_click_unsubscribe_works_and_cannot_be_forged(app, session, smtp, company):
    owner, _ = company
    with app.app_context():
        assert send_round(session, monday_7()) == 1
    link = smtp.handler.received[0].message["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("http://engpass.test")
    client = app.test_client()
    forged = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    assert client.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 403
    session.expire_all()
    assert preferences.preferences_of(session, owner).digest_enabled
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    session.expire_all()
    assert not preferences.preferences_of(session, owner).digest_enabled
    with app.app_context():
        assert send_round(session, monday_7() + timedelta(days=7)) == 0


def _monday_a_quarter_begins() -> datetime:
    """07:00 in Berlin on the next Monday whose week holds the first day of a quarter, as UTC."""
    from zoneinfo import ZoneInfo

    from engpass.digest.content import asks_for_candidates

    monday = date.today() - timedelta(days=date.today().weekday())
    while not asks_for_candidates(monday - timedelta(days=7)):
        monday += timedelta(days=7)
    return datetime.combine(monday, datetime.min.time().replace(hour=7), tzinfo=ZoneInfo("Europe/Berlin")).astimezone(
        UTC
    )


def test_in_the_week_a_quarter_begins_members_are_asked_for_candidates(app_context, session, smtp, company, make_user):
    from decimal import Decimal

    from engpass.candidates import service as candidates

    owner, org = company
    viewer = make_user(email="viewer@example.com")
    add_member(session, org, viewer, Role.viewer)
    with tenancy.tenant_context(session, org.id):
        candidates.propose(session, {"title": "Reklamationen dauern", "hours_per_week": Decimal(4)}, owner.id)
        session.commit()
    assert send_round(session, _monday_a_quarter_begins()) == 2
    texts = {r.rcpt_tos[0]: r.message.get_body(("plain",)).get_content() for r in smtp.handler.received}
    member = texts["sabine@example.com"]
    assert "Was bremst Sie am meisten?" in member and "1. Reklamationen dauern" in member
    assert "http://engpass.test/o/digest-gmbh/candidates/new" in member
    assert "Was bremst Sie" not in texts["viewer@example.com"], "a viewer cannot propose"
