"""The digest's "as sponsor" block: the decisions waiting for each reader, through the digest's send log."""

from __future__ import annotations

from engpass import tenancy
from engpass.digest.sending import send_round
from engpass.organizations.models import Role
from tests.support.cycles import lead_scoring_cycle
from tests.support.digests import monday_7, scaled_cycle_with_trends

BLOCK = "Als Sponsor: Entscheidungen, die auf Sie warten"


def test_the_sponsor_reads_the_decisions_waiting_for_them(app_context, session, smtp, make_user, make_org):
    owner = make_user(email="sabine@example.com", name="Sabine Müller")
    aylin = make_user(email="aylin@example.com", name="Aylin Kaya")
    org = make_org("Digest GmbH", owner=owner, members={aylin: Role.admin})
    scaled_cycle_with_trends(session, org, owner)
    with tenancy.tenant_context(session, org.id):
        cycle = lead_scoring_cycle(session, owner, "Zu wenige Aufträge")
        cycle.sponsor_id = aylin.id
        session.commit()
        cycle_id = cycle.id

    assert send_round(session, monday_7()) == 2
    assert send_round(session, monday_7()) == 0, "once per reader and week"
    mails = {received.rcpt_tos[0]: received.message for received in smtp.handler.received}
    aylins = mails["aylin@example.com"].get_body(("plain",)).get_content()
    assert BLOCK in aylins and "Zu wenige Aufträge: Das Ergebnis ist gemessen" in aylins
    assert f"http://engpass.test/o/digest-gmbh/cycles/{cycle_id}/decision" in aylins
    assert BLOCK in mails["aylin@example.com"].get_body(("html",)).get_content()
    # The owner answers for cycles without a sponsor, not for Aylin's.
    assert BLOCK not in mails["sabine@example.com"].get_body(("plain",)).get_content()
