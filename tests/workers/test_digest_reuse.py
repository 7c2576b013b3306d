"""A batch reads an organization's part of the digest once, whatever how many of its members read it, in which
time zone and language; each reader still gets their own language, number format and links."""

from __future__ import annotations

import re

from sqlalchemy import select

from engpass import tenancy
from engpass.accounts.models import User
from engpass.cycles.models import Cycle
from engpass.digest.sending import due_user_ids, send_batch
from engpass.organizations.models import Role
from engpass.trends import service as trends
from tests.support.digests import BERLIN, monday_7, scaled_cycle_with_trends


def _org_with_readers(session, make_user, make_org, readers: int):
    """An organization with a week to tell and ``readers`` members, every other one in New York and in English."""
    owner = make_user()
    members = {}
    for n in range(readers - 1):
        member = make_user()
        if n % 2:
            member.locale, member.timezone = "en", "America/New_York"
        members[member] = Role.viewer
    org = make_org(f"Zählung {readers} GmbH", owner=owner, members=members)
    scaled_cycle_with_trends(session, org, owner)
    return [owner.id, *(member.id for member in members)]


def _batch_statements(session, count_queries, user_ids) -> tuple[int, list[str]]:
    session.expire_all()
    with count_queries() as counter:
        sent = send_batch(session, user_ids, monday_7(), everyone=True)
    return sent, counter.statements


def _shape(statements: list[str]) -> list[str]:
    """The statements without their parameter lists, which grow with the batch's ids."""
    return [re.sub(r"IN \((?:[^()]|\([^()]*\))*\)", "IN (…)", s).split("VALUES")[0] for s in statements]


def _is_recording(statement: str) -> bool:
    return statement.lstrip().startswith("UPDATE send_log")


def test_the_organizations_part_is_read_once_per_batch_however_many_read_it(
    app_context, session, smtp, make_user, make_org, count_queries
):
    few = _org_with_readers(session, make_user, make_org, 2)
    many = _org_with_readers(session, make_user, make_org, 10)

    sent_few, few_statements = _batch_statements(session, count_queries, few)
    sent_many, many_statements = _batch_statements(session, count_queries, many)

    assert (sent_few, sent_many) == (2, 10)
    # Per reader only the send log's record of their message (exactly once: docs/email.md); the readers,
    # their memberships and clients, the organization's stored week (here not of this week, so then its
    # changes, snapshots and radar), webhook summary, open cycles and the one INSERT of the batch's claims
    # are the same statements for 2 readers as for 10, although the readers live in two time zones and speak
    # two languages.
    assert _shape([s for s in few_statements if not _is_recording(s)]) == _shape(
        [s for s in many_statements if not _is_recording(s)]
    )
    assert sum(map(_is_recording, few_statements)) == 2
    assert sum(map(_is_recording, many_statements)) == 10


def test_readers_of_one_organization_get_their_own_language_and_number_format(
    app_context, session, smtp, make_user, make_org, count_queries
):
    german = make_user(email="sabine@example.com", name="Sabine Müller")
    english = make_user(email="ann@example.com", name="Ann Smith", locale="en")
    org = make_org("Digest GmbH", owner=german, members={english: Role.admin})
    scaled_cycle_with_trends(session, org, german)

    sent, statements = _batch_statements(session, count_queries, [german.id, english.id])

    assert sent == 2
    assert sum(map(_is_recording, statements)) == 2
    mails = {received.rcpt_tos[0]: received.message for received in smtp.handler.received}
    german_text = mails["sabine@example.com"].get_body(("plain",)).get_content()
    english_text = mails["ann@example.com"].get_body(("plain",)).get_content()
    assert mails["sabine@example.com"]["Subject"].startswith("Digest GmbH: Ihre Woche")
    assert mails["ann@example.com"]["Subject"].startswith("Digest GmbH: your week")
    assert "Hallo Sabine Müller" in german_text and "Einsparung pro Jahr: 27.040" in german_text
    assert "Hello Ann Smith" in english_text and "Savings per year: €27,040" in english_text
    assert "Ihre Woche" not in english_text and "27,040" not in german_text
    german_html = mails["sabine@example.com"].get_body(("html",)).get_content()
    english_html = mails["ann@example.com"].get_body(("html",)).get_content()
    assert "27.040" in german_html and "27,040" in english_html
    # Each reader's own unsubscribe link.
    assert mails["sabine@example.com"]["List-Unsubscribe"] != mails["ann@example.com"]["List-Unsubscribe"]


def test_the_round_puts_an_organizations_readers_next_to_each_other(session, make_user, make_org):
    first, second, third, fourth, loner = (make_user() for _ in range(5))
    one = make_org("Eins GmbH", owner=first, members={third: Role.viewer})
    make_org("Zwei GmbH", owner=second, members={fourth: Role.viewer})
    assert one.id is not None
    ids = {first.id, second.id, third.id, fourth.id, loner.id}
    due = [user_id for user_id in due_user_ids(session, monday_7()) if user_id in ids]
    assert due == [first.id, third.id, second.id, fourth.id, loner.id]


def _orgs_with_a_reader_each(session, make_user, make_org, count: int, label: str) -> list[int]:
    """``count`` organizations with one member each and their week stored by the recompute that runs on the
    Monday the digest goes out (the nightly run before the digests)."""
    readers = []
    for n in range(count):
        owner = make_user()
        org = make_org(f"Einzeln {label} {n} GmbH", owner=owner)
        scaled_cycle_with_trends(session, org, owner)
        with tenancy.tenant_context(session, org.id):
            trends.recompute(session, today=monday_7().astimezone(BERLIN).date())
            session.commit()
        readers.append(owner.id)
    return readers


def test_a_batch_reads_its_organizations_parts_in_the_same_statements_however_many(
    app_context, session, smtp, make_user, make_org, count_queries
):
    two = _orgs_with_a_reader_each(session, make_user, make_org, 2, "zwei")
    ten = _orgs_with_a_reader_each(session, make_user, make_org, 10, "zehn")

    sent_two, two_statements = _batch_statements(session, count_queries, two)
    sent_ten, ten_statements = _batch_statements(session, count_queries, ten)

    assert (sent_two, sent_ten) == (2, 10)
    # The readers, their memberships and clients; for all organizations at once their stored weeks
    # (trend_states), open cycles (the reminders' one query) and chat channels (the weekly summary), under one
    # setting of the organizations read; the claims. Only the send log's record is per reader.
    assert _shape([s for s in ten_statements if not _is_recording(s)]) == _shape(
        [s for s in two_statements if not _is_recording(s)]
    )
    assert sum(map(_is_recording, ten_statements)) == 10
    for table in ("FROM trend_states", "FROM cycles", "FROM webhook_endpoints"):
        assert sum(table in statement for statement in ten_statements) == 1, table
    # Nothing re-reads the week the recompute stored: its changes, snapshots and findings.
    assert not any(
        table in statement
        for statement in ten_statements
        for table in ("stage_changes", "trend_snapshots", "radar_findings")
    )


def test_each_organization_of_a_batch_gets_its_own_part(app_context, session, smtp, make_user, make_org):
    """One statement reads every organization of the batch: each reader's digest still tells only their own
    organization's week, reminders and figures."""
    readers = _orgs_with_a_reader_each(session, make_user, make_org, 3, "eigen")
    with tenancy.tenant_context(session, session.get(User, readers[1]).memberships[0].organization_id):
        cycle = session.scalars(select(Cycle).order_by(Cycle.id)).first()
        cycle.title = "Nur bei Nummer eins"
        trends.mark_changed(session)
        session.commit()

    assert send_batch(session, readers, monday_7(), everyone=True) == 3

    texts = {
        received.rcpt_tos[0]: received.message.get_body(("plain",)).get_content() for received in smtp.handler.received
    }
    assert len(texts) == 3
    emails = [session.get(User, user_id).email for user_id in readers]
    for n, email in enumerate(emails):
        assert f"Einzeln eigen {n} GmbH" in texts[email]
        assert all(f"Einzeln eigen {other} GmbH" not in texts[email] for other in range(3) if other != n)
    assert "Nur bei Nummer eins" in texts[emails[1]]
    assert all("Nur bei Nummer eins" not in texts[email] for email in (emails[0], emails[2]))
